package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/stopcoord/stopcoord/client"
)

// waitFlags are the flags of every command that waits for a stop.
type waitFlags struct {
	timeout            time.Duration
	minDelay, maxDelay time.Duration
}

func waitFlagsOf(fs *flag.FlagSet) *waitFlags {
	w := &waitFlags{}
	fs.DurationVar(&w.timeout, "timeout", 30*time.Minute, "how long to wait for the execution to end")
	fs.DurationVar(&w.minDelay, "poll-min", time.Second, "shortest delay between polls")
	fs.DurationVar(&w.maxDelay, "poll-max", 10*time.Second, "longest delay between polls")
	return w
}

func (c *cli) stop(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("stop", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	t := c.targetFlags(fs)
	force := fs.Bool("force", false, "answer every open callback at once instead of waiting for each Stopping message")
	reason := fs.String("reason", "", "why, recorded with the stop and sent as the callbacks' failure reason")
	pipelineName := fs.String("pipeline", "", "stop every running execution of this pipeline")
	wait := fs.Bool("wait", false, "wait until the execution has ended, showing what still blocks the stop")
	key := fs.String("idempotency-key", "", "repeat a stop safely: the same key returns the first stop")
	output := fs.String("o", "text", "output: text or json")
	wf := waitFlagsOf(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage, err
	}
	switch {
	case *pipelineName == "" && len(pos) != 1:
		return exitUsage, usagef("name one execution (an ARN or pipeline/execution-id), or --pipeline NAME")
	case *pipelineName != "" && len(pos) != 0:
		return exitUsage, usagef("--pipeline stops every execution of the pipeline: name no execution with it")
	case *output != "text" && *output != "json":
		return exitUsage, usagef("-o %q: want text or json", *output)
	}
	mode := client.ModeGraceful
	if *force {
		mode = client.ModeForce
	}
	api, err := c.client(ctx, t)
	if err != nil {
		return exitError, err
	}
	if *pipelineName != "" {
		return c.bulkStop(ctx, api, &client.StopPipelineInput{PipelineName: *pipelineName, Reason: *reason, Mode: mode, IdempotencyKey: *key}, *wait, wf, *output)
	}
	out, err := api.StopExecution(ctx, &client.StopExecutionInput{Execution: pos[0], Reason: *reason, Mode: mode, IdempotencyKey: *key})
	if err != nil {
		return exitError, err
	}
	if *output == "json" && !*wait {
		return exitOK, writeJSON(c.stdout, out)
	}
	verb := "stop requested"
	if out.AlreadyStopping {
		verb = "a stop was already under way; joined it"
	}
	fmt.Fprintf(c.stdout, "%s: %s (stop %s, %s)\n", verb, out.Stop.ExecutionARN, out.Stop.ID, out.Stop.Mode)
	if !*wait {
		fmt.Fprintf(c.stdout, "follow it with: stopcoord wait %s\n", out.Stop.ID)
		return exitOK, nil
	}
	return c.waitFor(ctx, api, out.Stop.ID, wf, *output, nil)
}

func (c *cli) bulkStop(ctx context.Context, api *client.Client, in *client.StopPipelineInput, wait bool, wf *waitFlags, output string) (int, error) {
	out, err := api.StopPipeline(ctx, in)
	if err != nil {
		return exitError, err
	}
	if output == "json" && !wait {
		return exitOK, writeJSON(c.stdout, out)
	}
	fmt.Fprintf(c.stdout, "queued %d stop(s) for pipeline %s\n", out.Count, in.PipelineName)
	for _, s := range out.Stops {
		fmt.Fprintf(c.stdout, "  %s  %s\n", s.StopID, s.ExecutionARN)
	}
	if !wait {
		return exitOK, nil
	}
	worst := exitOK
	for _, s := range out.Stops {
		// A queued stop is recorded when the stop queue's consumer takes it:
		// until then the API does not know the id.
		code, err := c.waitFor(ctx, api, s.StopID, wf, output, pendingIsRunning)
		if err != nil {
			fmt.Fprintf(c.stderr, "stopcoord stop: %s: %v\n", s.ExecutionARN, err)
		}
		worst = max(worst, code)
	}
	return worst, nil
}

// pendingIsRunning keeps waiting while a queued stop is not recorded yet.
func pendingIsRunning(ctx context.Context, in *client.GetStopInput, out *client.GetStopOutput, err error) (bool, error) {
	if client.HasCode(err, client.CodeNotFound) {
		return true, nil
	}
	return client.DefaultStopRetryable(ctx, in, out, err)
}

func (c *cli) wait(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	t := c.targetFlags(fs)
	output := fs.String("o", "text", "output: text or json")
	wf := waitFlagsOf(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 1 || !strings.HasPrefix(pos[0], "stop-") {
		return exitUsage, usagef("name one stop id (stop-...)")
	}
	api, err := c.client(ctx, t)
	if err != nil {
		return exitError, err
	}
	return c.waitFor(ctx, api, pos[0], wf, *output, nil)
}

// waitFor waits with a StopWaiter, keeping a progress line of what still
// blocks the stop, and turns the outcome into the exit code.
func (c *cli) waitFor(ctx context.Context, api *client.Client, stopID string, wf *waitFlags, output string, retryable func(context.Context, *client.GetStopInput, *client.GetStopOutput, error) (bool, error)) (int, error) {
	p := newProgress(c.stdout, output == "json")
	waiter := client.NewStopWaiter(api, func(o *client.StopWaiterOptions) {
		o.MinDelay, o.MaxDelay = wf.minDelay, wf.maxDelay
		o.OnPoll = p.show
		if retryable != nil {
			o.Retryable = retryable
		}
	})
	out, err := waiter.WaitForOutput(ctx, &client.GetStopInput{StopID: stopID}, wf.timeout)
	p.done()
	if output == "json" && out != nil {
		if werr := writeJSON(c.stdout, out); werr != nil {
			return exitError, werr
		}
	}
	var notStopped *client.NotStoppedError
	switch {
	case err == nil:
		if output != "json" {
			fmt.Fprintf(c.stdout, "%s: Stopped%s\n", out.Stop.ExecutionARN, latency(out.Stop))
		}
		return exitOK, nil
	case errors.As(err, &notStopped):
		reason := ""
		if out != nil && out.Execution.FailureReason != "" {
			reason = " (" + out.Execution.FailureReason + ")"
		}
		return exitNotAsAsked, fmt.Errorf("the execution ended %s, not Stopped%s", notStopped.Outcome, reason)
	case errors.Is(err, client.ErrWaitTimeout):
		return exitTimeout, fmt.Errorf("%w after %s; the stop goes on: stopcoord wait %s", err, wf.timeout, stopID)
	}
	return exitError, err
}

func latency(s client.Stop) string {
	if s.LatencyMs > 0 {
		return fmt.Sprintf(" in %s", (time.Duration(s.LatencyMs) * time.Millisecond).Round(time.Millisecond))
	}
	return ""
}

// progress is the live line of what still blocks a stop: rewritten in
// place on a terminal, one line per change otherwise.
type progress struct {
	w      io.Writer
	quiet  bool
	tty    bool
	last   string
	drawn  bool
	now    func() time.Time
	starts time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progress{w: w, quiet: quiet, tty: tty, now: time.Now, starts: time.Now()}
}

func (p *progress) show(out *client.GetStopOutput) {
	if p.quiet {
		return
	}
	line := blockingLine(out, p.now())
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s  [%s]", line, p.now().Sub(p.starts).Round(time.Second))
		p.drawn = true
		return
	}
	if line != p.last {
		fmt.Fprintln(p.w, line)
		p.last = line
	}
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// blockingLine says where the stop is and what it waits for.
func blockingLine(out *client.GetStopOutput, now time.Time) string {
	e := out.Execution
	status := e.Status
	if status == "" {
		status = "unknown"
	}
	waits := blockers(e.Blocking)
	line := fmt.Sprintf("%s: %s, stop %s", shortExecution(out), status, out.Stop.Phase)
	switch {
	case e.Terminal:
	case len(waits) > 0:
		line += "; waiting for " + strings.Join(waits, ", ")
	case status == client.StatusStopping:
		line += "; waiting for SageMaker to finish stopping the other steps"
	}
	return line
}

// blockers names each open callback and running Lambda step a stop waits
// for, with since when or until when.
func blockers(b client.Blocking) []string {
	var waits []string
	for _, cb := range b.OpenCallbacks {
		w := "callback " + cb.StepName
		if cb.Since != nil {
			w += " (open since " + clock(*cb.Since) + ")"
		}
		waits = append(waits, w)
	}
	for _, l := range b.RunningLambdas {
		w := "Lambda " + l.StepName
		if l.EndsBy != nil {
			w += " (ends by " + clock(*l.EndsBy) + ")"
		}
		waits = append(waits, w)
	}
	return waits
}

func shortExecution(out *client.GetStopOutput) string {
	if ref, err := client.ParseExecution(out.Stop.ExecutionARN); err == nil {
		return ref.Pipeline + "/" + ref.ID
	}
	return out.Stop.ID
}

func clock(t time.Time) string { return t.Local().Format("15:04:05") }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
