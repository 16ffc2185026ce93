package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/stopcoord/stopcoord/local/stopshare"
)

// overheadGoal is what stopcoord may add to a callback step's stop, at
// the median, on the local stack (issue 16).
const overheadGoal = 100 * time.Millisecond

// medianOverhead is the median of the measured steps' overheads.
func medianOverhead(paths []stopshare.Path) (time.Duration, bool) {
	var xs []time.Duration
	for _, p := range paths {
		if p.Measured() {
			xs = append(xs, p.Overhead)
		}
	}
	if len(xs) == 0 {
		return 0, false
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	if len(xs)%2 == 0 {
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2, true
	}
	return xs[len(xs)/2], true
}

func printBreakdown(out io.Writer, paths []stopshare.Path) {
	fmt.Fprintln(out, "\nstopcoord's own share of each callback step's stop (POST /stops to SageMaker accepting the answer):")
	fmt.Fprintf(out, "  %-18s %9s %10s %7s %10s %10s %8s %11s %10s\n", "step", "total", "SageMaker", "SQS", "cleaners", "stopcoord", "(API", "pre-clean", "answer)")
	for _, p := range paths {
		if !p.Measured() {
			fmt.Fprintf(out, "  %-18s not measured: %s\n", p.Step, p.Missing)
			continue
		}
		fmt.Fprintf(out, "  %-18s %9s %10s %7s %10s %10s %8s %11s %10s\n", p.Step, msText(p.Total), msText(p.SageMaker), msText(p.SQS), msText(p.Cleaners),
			msText(p.Overhead), msText(p.StopAPI), msText(p.BeforeCleaning), msText(p.AfterCleaning))
	}
	fmt.Fprint(out, "  SageMaker: StopPipelineExecution reaching SageMaker to the Stopping message in the callback queue (seen at both ends);\n"+
		"  SQS: the message in the queue to the queue's poller handing it to the callback function, as Lambda's event source mapping does;\n"+
		"  cleaners: each cleaner's own time as the ledger records every attempt; stopcoord: the rest, of which the stop API\n"+
		"  (POST to StopPipelineExecution at SageMaker), the callback function before its first cleaner, and after its last one until the answer.\n")
	if m, ok := medianOverhead(paths); ok {
		verdict := "within"
		if m > overheadGoal {
			verdict = "over"
		}
		fmt.Fprintf(out, "stopcoord overhead, median over the callback steps: %s (%s the goal of %s)\n", msText(m), verdict, msText(overheadGoal))
	}
}

func msText(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// report prints the phases of the stop, stopcoord's share of it, and the
// ledger's final view as the stop API shows it.
func (d *demo) report(ctx context.Context, arn string, stopAt, stoppedAt time.Time, w *watcher) {
	fmt.Fprintln(d.out, "\nphases:")
	phase := func(name string, at time.Time) {
		if at.IsZero() {
			fmt.Fprintf(d.out, "  %-54s not seen\n", name)
			return
		}
		fmt.Fprintf(d.out, "  %-54s %8.3fs\n", name, at.Sub(stopAt).Seconds())
	}
	has := func(parts ...string) func(string) bool {
		return func(s string) bool {
			for _, p := range parts {
				if !strings.Contains(s, p) {
					return false
				}
			}
			return true
		}
	}
	first := func(m func(string) bool) time.Time { f, _ := w.when(m); return f }
	last := func(m func(string) bool) time.Time { _, l := w.when(m); return l }
	phase("stop issued to SageMaker", first(has("stop issued")))
	phase("execution Stopping", first(has("execution Stopping")))
	phase("Stopping messages sent (last callback step Stopping)", last(has("Stopping message is on the callback queue")))
	phase("every cleanup done", last(has("cleanup of ")))
	phase("every token answered", last(has("token of ", "answered")))
	phase("Lambda step finished (waited for)", first(has("step Score Succeeded")))
	phase("training job stopped (SageMaker's own stop)", first(has("step Train Stopped")))
	phase("execution Stopped", stoppedAt)
	phase("stop request closed in the ledger", first(has("stop request closed")))
	fmt.Fprintf(d.out, "\nend-to-end stop latency: %.3fs (POST /stops to the execution Stopped); the last step to end is the training job, whose stop is SageMaker's own\n",
		stoppedAt.Sub(stopAt).Seconds())

	in := stopshare.Inputs{Steps: callbackSteps, Requested: stopAt, StopReceived: d.smTap.StopReceived(arn), Answers: d.st.Emulator.Answers(arn)}
	if view, err := d.ledger.ReadExecution(ctx, mustARN(arn)); err == nil {
		in.Tokens, in.Cleanups = view.Tokens, view.Cleanups
	} else {
		d.fail("read the ledger: %v", err)
	}
	in.Sent, in.Delivered = d.tap.Stopping(in.AllTokens())
	printBreakdown(d.out, stopshare.Breakdown(in))

	view, err := d.getExecution(ctx, arn)
	if err != nil {
		d.fail("GET /executions: %v", err)
		return
	}
	summary := map[string]any{"status": view["status"], "steps": view["steps"], "blocking": view["blocking"]}
	if stops, ok := view["stops"].([]any); ok && len(stops) > 0 {
		s, _ := stops[0].(map[string]any)
		summary["stop"] = map[string]any{"id": s["id"], "phase": s["phase"], "outcome": s["outcome"], "latencyMs": s["latencyMs"], "requestedBy": s["requestedBy"]}
	}
	b, _ := json.MarshalIndent(summary, "  ", "  ")
	fmt.Fprintf(d.out, "\nthe ledger's final view (GET /executions/{arn}):\n  %s\n", b)
}
