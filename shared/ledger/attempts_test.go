package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TestExecutionTransitions: every applied status is recorded with its
// event time, once; rejected ones (stale, duplicate, after terminal) are
// not, so a retried execution's attempts can be read back in order.
func TestExecutionTransitions(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "transitions1")
	record := func(s pipeline.ExecutionStatus, at time.Duration) error {
		_, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: s, At: t0.Add(at), StartedAt: t0})
		return err
	}
	steps := []struct {
		status pipeline.ExecutionStatus
		at     time.Duration
		want   error
	}{
		{pipeline.ExecutionExecuting, 0, nil},
		{pipeline.ExecutionExecuting, 0, pipeline.ErrDuplicate}, // a redelivered event
		{pipeline.ExecutionStopping, time.Minute, nil},
		{pipeline.ExecutionStopped, 2 * time.Minute, nil},
		{pipeline.ExecutionStopping, 90 * time.Second, pipeline.ErrTerminal}, // late, after the end
		{pipeline.ExecutionExecuting, 5 * time.Minute, nil},                  // RetryPipelineExecution
		{pipeline.ExecutionFailed, 7 * time.Minute, nil},
	}
	for _, s := range steps {
		if err := record(s.status, s.at); !errors.Is(err, s.want) && !(s.want == nil && err == nil) {
			t.Fatalf("%s at +%s: err = %v, want %v", s.status, s.at, err, s.want)
		}
	}
	view, err := l.ReadExecution(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Clone(view.Execution.Transitions)
	slices.Sort(got)
	want := []string{
		stamp(t0) + "#Executing",
		stamp(t0.Add(time.Minute)) + "#Stopping",
		stamp(t0.Add(2*time.Minute)) + "#Stopped",
		stamp(t0.Add(5*time.Minute)) + "#Executing",
		stamp(t0.Add(7*time.Minute)) + "#Failed",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("transitions\n got %v\nwant %v", got, want)
	}
}

func stamp(t time.Time) string { return fmt.Sprintf("%013d", t.UnixMilli()) }
