package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestExecutionStatusLifecycle(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "life1")

	rec, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: t0, StartedAt: t0, DisplayName: "nightly"})
	if err != nil {
		t.Fatalf("Executing: %v", err)
	}
	if rec.Status != pipeline.ExecutionExecuting || rec.PipelineName != "train" || rec.DisplayName != "nightly" || !rec.StartedAt.Equal(t0) {
		t.Fatalf("after Executing got %+v", rec)
	}
	rec, err = l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: t0.Add(time.Minute)})
	if err != nil {
		t.Fatalf("Stopping: %v", err)
	}
	if !rec.StoppingSince.Equal(t0.Add(time.Minute)) || rec.ExpiresAt != 0 {
		t.Fatalf("after Stopping: stoppingSince %v expiresAt %d, want %v and 0", rec.StoppingSince, rec.ExpiresAt, t0.Add(time.Minute))
	}
	// A duplicate Stopping with a newer event time keeps the first entry time.
	rec, err = l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: t0.Add(2 * time.Minute)})
	if err != nil {
		t.Fatalf("later Stopping: %v", err)
	}
	if !rec.StoppingSince.Equal(t0.Add(time.Minute)) {
		t.Fatalf("later Stopping moved stoppingSince to %v", rec.StoppingSince)
	}
	end := t0.Add(3 * time.Minute)
	rec, err = l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopped, At: end, EndedAt: end})
	if err != nil {
		t.Fatalf("Stopped: %v", err)
	}
	if !rec.StoppingSince.IsZero() {
		t.Fatalf("Stopped execution still in the Stopping index since %v", rec.StoppingSince)
	}
	if want := end.Add(ledger.DefaultRetention).Unix(); rec.ExpiresAt != want {
		t.Fatalf("terminal expiresAt = %d, want %d", rec.ExpiresAt, want)
	}
}

func TestExecutionStatusRejections(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		applied []pipeline.ExecutionStatus // at t0, t0+1s, ...
		next    pipeline.ExecutionStatus
		nextAt  time.Duration
		wantErr error
		want    pipeline.ExecutionStatus
	}{
		{"duplicate event", []pipeline.ExecutionStatus{"Executing"}, "Executing", 0, pipeline.ErrDuplicate, "Executing"},
		{"older event after newer", []pipeline.ExecutionStatus{"Executing", "Stopping"}, "Executing", 0, pipeline.ErrStale, "Stopping"},
		{"older same status", []pipeline.ExecutionStatus{"Executing", "Stopping"}, "Stopping", -time.Hour, pipeline.ErrStale, "Stopping"},
		{"terminal is sticky", []pipeline.ExecutionStatus{"Executing", "Failed"}, "Stopping", time.Hour, pipeline.ErrTerminal, "Failed"},
		{"terminal to terminal", []pipeline.ExecutionStatus{"Executing", "Stopped"}, "Failed", time.Hour, pipeline.ErrTerminal, "Stopped"},
		{"duplicate terminal", []pipeline.ExecutionStatus{"Executing", "Succeeded"}, "Succeeded", time.Second, pipeline.ErrDuplicate, "Succeeded"},
		{"a late Executing of the attempt before a retry", []pipeline.ExecutionStatus{"Executing", "Failed"}, "Executing", 0, pipeline.ErrTerminal, "Failed"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLedger(t)
			arn := execARN(t, "rej"+string(rune('a'+i)))
			for j, s := range tt.applied {
				if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: s, At: t0.Add(time.Duration(j) * time.Second)}); err != nil {
					t.Fatalf("apply %s: %v", s, err)
				}
			}
			rec, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: tt.next, At: t0.Add(tt.nextAt)})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("record %s after %v: err = %v, want %v", tt.next, tt.applied, err, tt.wantErr)
			}
			if pipeline.Code(err) != pipeline.EConflict {
				t.Fatalf("code = %q, want conflict", pipeline.Code(err))
			}
			if rec.Status != tt.want {
				t.Fatalf("returned status %q, want the recorded %q", rec.Status, tt.want)
			}
			view, err := l.ReadExecution(ctx, arn)
			if err != nil {
				t.Fatal(err)
			}
			if view.Execution.Status != tt.want {
				t.Fatalf("ledger holds %q after a rejected write, want %q", view.Execution.Status, tt.want)
			}
		})
	}
}

func TestStepEventsOutOfOrder(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "steps1")
	step := func(s pipeline.StepStatus, at time.Duration) pipeline.StepChange {
		return pipeline.StepChange{ARN: arn, StepName: "Wait", Kind: pipeline.KindCallback, Status: s, At: t0.Add(at)}
	}
	// Delivered out of order: Executing (with the token) first, then the
	// older Starting, then a duplicate Executing, then Succeeded.
	executing := step(pipeline.StepExecuting, 2*time.Second)
	executing.CallbackToken = "26vcYbeWsZ"
	executing.StartedAt = t0
	if _, err := l.RecordStepStatus(ctx, executing); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordStepStatus(ctx, step(pipeline.StepStarting, time.Second)); !errors.Is(err, pipeline.ErrStale) {
		t.Fatalf("older Starting after Executing: err = %v, want ErrStale", err)
	}
	if _, err := l.RecordStepStatus(ctx, executing); !errors.Is(err, pipeline.ErrDuplicate) {
		t.Fatalf("duplicate Executing: err = %v, want ErrDuplicate", err)
	}
	done := step(pipeline.StepSucceeded, 5*time.Second)
	done.EndedAt = t0.Add(5 * time.Second)
	rec, err := l.RecordStepStatus(ctx, done)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse later events keep what earlier ones brought.
	if rec.CallbackToken != "26vcYbeWsZ" || !rec.StartedAt.Equal(t0) || rec.Kind != pipeline.KindCallback {
		t.Fatalf("Succeeded lost earlier detail: %+v", rec)
	}
	if rec.ExpiresAt == 0 {
		t.Fatal("terminal step has no TTL")
	}
	if _, err := l.RecordStepStatus(ctx, step(pipeline.StepStopping, time.Hour)); !errors.Is(err, pipeline.ErrTerminal) {
		t.Fatalf("Stopping after Succeeded: err = %v, want ErrTerminal", err)
	}
}

func TestStepSameStatusNewerEventAddsDetail(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "steps2")
	first := pipeline.StepChange{ARN: arn, StepName: "Fn", Kind: pipeline.KindLambda, Status: pipeline.StepExecuting, At: t0}
	if _, err := l.RecordStepStatus(ctx, first); err != nil {
		t.Fatal(err)
	}
	second := first
	second.At = t0.Add(time.Second)
	second.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
	second.LambdaTimeout = 2 * time.Minute
	second.Metadata = map[string]any{"lambda": map[string]any{"arn": second.FunctionARN}}
	rec, err := l.RecordStepStatus(ctx, second)
	if err != nil {
		t.Fatalf("newer event of the same status: %v", err)
	}
	if rec.FunctionARN != second.FunctionARN || rec.LambdaTimeout != 2*time.Minute || rec.Metadata["lambda"] == nil {
		t.Fatalf("detail not merged: %+v", rec)
	}
}

func TestBadStatusesAreInvalid(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "bad1")
	if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: "Paused", At: t0}); pipeline.Code(err) != pipeline.EInvalid {
		t.Errorf("execution status Paused: err = %v, want invalid", err)
	}
	if _, err := l.RecordStepStatus(ctx, pipeline.StepChange{ARN: arn, StepName: "s", Status: "Running", At: t0}); pipeline.Code(err) != pipeline.EInvalid {
		t.Errorf("step status Running: err = %v, want invalid", err)
	}
	if _, err := l.RecordStepStatus(ctx, pipeline.StepChange{ARN: arn, Status: pipeline.StepExecuting, At: t0}); pipeline.Code(err) != pipeline.EInvalid {
		t.Errorf("step without name: err = %v, want invalid", err)
	}
	view, err := l.ReadExecution(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if view.Execution != nil || len(view.Steps) != 0 {
		t.Fatalf("invalid writes reached the table: %+v", view)
	}
}

// TestRetriedExecutionReopens (issue 11, defect 10): after
// RetryPipelineExecution the execution runs again, and the ledger, the
// sweeper's index and new stops see it.
func TestRetriedExecutionReopens(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "retry1")
	for i, s := range []pipeline.ExecutionStatus{"Executing", "Failed"} {
		c := pipeline.ExecutionChange{ARN: arn, Status: s, At: t0.Add(time.Duration(i) * time.Minute), StartedAt: t0}
		if s.Terminal() {
			c.EndedAt = c.At
		}
		if _, err := l.RecordExecutionStatus(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	rec, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: "Executing", At: t0.Add(5 * time.Minute)})
	if err != nil || rec.Status != pipeline.ExecutionExecuting || !rec.EndedAt.IsZero() || rec.ExpiresAt != 0 {
		t.Fatalf("retry's Executing: %+v, %v; want running again, no end and no expiry", rec, err)
	}
	page, err := l.ListActive(ctx, t0.Add(time.Hour), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range page.Executions {
		found = found || e.ExecutionARN == arn.String()
	}
	if !found {
		t.Fatal("the retried execution is not in the active index: the sweeper would not see it")
	}
	// A retried step runs again too.
	step := pipeline.StepChange{ARN: arn, StepName: "Train", Status: pipeline.StepFailed, At: t0.Add(time.Minute)}
	if _, err := l.RecordStepStatus(ctx, step); err != nil {
		t.Fatal(err)
	}
	step.Status, step.At = pipeline.StepExecuting, t0.Add(6*time.Minute)
	if got, err := l.RecordStepStatus(ctx, step); err != nil || got.Status != pipeline.StepExecuting {
		t.Fatalf("retried step: %+v, %v", got, err)
	}
}
