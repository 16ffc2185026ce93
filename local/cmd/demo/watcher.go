package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// watcher builds the stop's timeline: it polls SageMaker (the emulator)
// and notes the first time it sees each change; once the execution has
// ended it adds what the ledger and the workers' services recorded, at the
// times they carry.
type watcher struct {
	d    *demo
	arn  string
	mu   sync.Mutex
	seen map[string]bool
	tl   []entry
	// phase times for the report
	execStatus string
	stoppedAt  time.Time
}

type entry struct {
	at   time.Time
	what string
}

func newWatcher(d *demo, arn string) *watcher {
	return &watcher{d: d, arn: arn, seen: map[string]bool{}}
}

func (w *watcher) note(at time.Time, what string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[what] {
		return
	}
	w.seen[what] = true
	w.tl = append(w.tl, entry{at, what})
}

func (w *watcher) run(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			w.poll(ctx)
		}
	}
}

func (w *watcher) poll(ctx context.Context) {
	now := time.Now()
	if desc, err := w.d.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(w.arn)}); err == nil {
		status := string(desc.PipelineExecutionStatus)
		at := now
		if pipeline.ExecutionStatus(status).Terminal() && desc.LastModifiedTime != nil {
			at = *desc.LastModifiedTime // SageMaker's own time of the change
		}
		w.note(at, "execution "+status)
		w.mu.Lock()
		w.execStatus = status
		if pipeline.ExecutionStatus(status).Terminal() && w.stoppedAt.IsZero() {
			w.stoppedAt = at
		}
		w.mu.Unlock()
	}
	if out, err := w.d.sm.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(w.arn)}); err == nil {
		for _, st := range out.PipelineExecutionSteps {
			name, status := aws.ToString(st.StepName), string(st.StepStatus)
			at := now
			if pipeline.StepStatus(status).Terminal() && st.EndTime != nil {
				at = *st.EndTime
			}
			what := fmt.Sprintf("step %s %s", name, status)
			if status == "Stopping" && name != "Train" && name != "Score" {
				what += " (the Stopping message is on the callback queue)"
			}
			if name == "Score" && status != "Executing" {
				what += " (the Lambda step was waited for)"
			}
			w.note(at, what)
		}
	}
}

// records notes what the ledger and the workers' services recorded, each
// at the time it carries. They are read once the execution has ended, not
// on every poll: the stop is measured, and the watcher must not load the
// parts it measures (a poll every 50 ms of DynamoDB Local and moto, which
// share the machine's two cores with the functions, slowed the callback
// function's ledger calls it was timing).
func (w *watcher) records(ctx context.Context) {
	if view, err := w.d.ledger.ReadExecution(ctx, mustARN(w.arn)); err == nil {
		steps := map[string]string{}
		for _, t := range view.Tokens {
			steps[t.Token] = t.StepName
			if t.State == pipeline.TokenAnswered {
				w.note(t.AnsweredAt, fmt.Sprintf("token of %s answered: %s, by %s", t.StepName, t.Outcome, t.AnsweredBy))
			}
		}
		for _, c := range view.Cleanups {
			w.note(c.LastAt, fmt.Sprintf("cleanup of %s: %s %s %s (attempt %d)", steps[c.Token], c.Resource.Kind, short(c.Resource.ID), c.Status, c.Attempts))
		}
		for _, s := range view.Stops {
			if !s.IssuedAt.IsZero() {
				w.note(s.IssuedAt, "stop issued: StopPipelineExecution accepted")
			}
			if !s.ClosedAt.IsZero() {
				w.note(s.ClosedAt, fmt.Sprintf("stop request closed: execution %s, %d ms after the request", s.Outcome, s.LatencyMillis))
			}
		}
	}
	sfnExecution, glueRunID := w.d.started()
	if sfnExecution != "" {
		if out, err := w.d.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(sfnExecution)}); err == nil && out.Status != "RUNNING" && out.StopDate != nil {
			w.note(*out.StopDate, "Step Functions execution "+string(out.Status))
		}
	}
	for _, s := range w.d.st.Glue.Stops() {
		if slices.Contains(s.JobRunIDs, glueRunID) {
			w.note(s.At, "Glue job run STOPPED")
		}
	}
	if at := w.d.cleanupCalled(); !at.IsZero() {
		w.note(at, "cleanup Lambda called (cancels the external job)")
	}
}

// waitTerminal waits until the execution ends and returns when it did.
func (w *watcher) waitTerminal(ctx context.Context) (time.Time, error) {
	for {
		w.mu.Lock()
		at, status := w.stoppedAt, w.execStatus
		w.mu.Unlock()
		if !at.IsZero() {
			if status != "Stopped" {
				return at, fmt.Errorf("the execution ended %s, not Stopped", status)
			}
			return at, nil
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return time.Time{}, fmt.Errorf("the execution did not stop in time (it is %s)", status)
		}
	}
}

// settle keeps watching a little longer for records that land after the
// execution ends (the stop request is closed by the status event).
func (w *watcher) settle(ctx context.Context, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		w.records(ctx)
		w.mu.Lock()
		closed := false
		for _, e := range w.tl {
			closed = closed || strings.HasPrefix(e.what, "stop request closed:")
		}
		w.mu.Unlock()
		if closed {
			return
		}
		sleep(ctx, 100*time.Millisecond)
	}
}

func (w *watcher) print(out io.Writer, t0 time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	sort.SliceStable(w.tl, func(i, j int) bool { return w.tl[i].at.Before(w.tl[j].at) })
	fmt.Fprintln(out, "\ntimeline (from the stop request):")
	for _, e := range w.tl {
		if e.at.Before(t0.Add(-time.Second)) {
			continue // what happened before the stop is not part of it
		}
		fmt.Fprintf(out, "  %+8.3fs  %s\n", e.at.Sub(t0).Seconds(), e.what)
	}
}

// when returns the first and the last time of the entries that match.
func (w *watcher) when(match func(string) bool) (first, last time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.tl {
		if !match(e.what) {
			continue
		}
		if first.IsZero() || e.at.Before(first) {
			first = e.at
		}
		if e.at.After(last) {
			last = e.at
		}
	}
	return first, last
}

func mustARN(s string) pipeline.ExecutionARN {
	a, _ := pipeline.ParseExecutionARN(s)
	return a
}

func short(id string) string {
	if len(id) > 48 {
		return "…" + id[len(id)-45:]
	}
	return id
}
