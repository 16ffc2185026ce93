package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/stopcoord/stopcoord/local/stopshare"
)

// missingNoTaps is why no step is measured when the taps are not there.
const missingNoTaps = "the run had no taps"

// measureShare cuts each callback step's stop of every stopped execution
// into its hops, as make demo does for its one stop: SageMaker's part,
// SQS's, the cleaners' own time, and stopcoord's, the rest. Under chaos
// stopcoord's part includes its retries after the injected faults. It only
// reports: nothing here fails the run.
func (r *report) measureShare(ctx context.Context) {
	c := r.c
	if c.st == nil || c.st.Emulator == nil {
		return
	}
	for _, x := range c.execs {
		if x.script.trigger == trigNone {
			continue
		}
		in := stopshare.Inputs{Answers: c.st.Emulator.Answers(x.arn)}
		in.Steps = stopshare.CallbackSteps(in.Answers)
		if len(in.Steps) == 0 {
			continue
		}
		if c.smTap == nil || c.sqsTap == nil {
			for _, step := range in.Steps {
				r.share = append(r.share, stopshare.Path{Step: step, Missing: missingNoTaps})
			}
			continue
		}
		in.Requested, _ = r.stopStart(ctx, x)
		in.StopReceived = c.smTap.StopReceived(x.arn)
		if view, err := c.ledger.ReadExecution(ctx, mustARN(x.arn)); err == nil {
			in.Tokens, in.Cleanups = view.Tokens, view.Cleanups
		}
		in.Sent, in.Delivered = c.sqsTap.Stopping(in.AllTokens())
		r.share = append(r.share, stopshare.Breakdown(in)...)
	}
}

// printShare prints the percentiles of each hop over the measured steps
// and what was not measured.
func (r *report) printShare(w io.Writer) {
	if len(r.share) == 0 {
		return
	}
	s := stopshare.Summarize(r.share)
	fmt.Fprintf(w, "\nstopcoord's own share of a callback step's stop (the stop request to stopcoord's answer of the step's token):\n")
	fmt.Fprintf(w, "  %d callback steps of stopped executions measured, %d not", s.Measured, s.Unmeasured)
	if s.Unmeasured > 0 {
		fmt.Fprintf(w, " (most often: %s, %d)", s.TopReason, s.TopReasonCount)
	}
	fmt.Fprintln(w)
	if s.Measured > 0 {
		fmt.Fprintf(w, "  %-6s %10s %10s %10s %10s %10s\n", "", "total", "SageMaker", "SQS", "cleaners", "stopcoord")
		for _, row := range []struct {
			name string
			p    stopshare.Path
		}{{"p50", s.P50}, {"p90", s.P90}} {
			fmt.Fprintf(w, "  %-6s %10s %10s %10s %10s %10s\n", row.name, msText(row.p.Total), msText(row.p.SageMaker), msText(row.p.SQS), msText(row.p.Cleaners), msText(row.p.Overhead))
		}
	}
	fmt.Fprint(w, "  SageMaker: StopPipelineExecution accepted at SageMaker to the Stopping message in the callback queue; SQS: the queue to\n"+
		"  its poller first handing the message to the callback function; cleaners: each cleaner's attempts as the ledger records\n"+
		"  them; stopcoord: the rest. Each column is ranked on its own, so a row need not add up. Under chaos stopcoord's share\n"+
		"  includes its retries after the injected faults (throttled SageMaker calls, cleaner retries, redelivered or killed\n"+
		"  batches, a paused DynamoDB); the goal of 100 ms at p50 is for the fault-free stack (make demo).\n")
}

func msText(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
