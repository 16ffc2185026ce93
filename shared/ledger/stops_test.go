package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestStopRequestLifecycle(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "stop1")
	req := pipeline.NewStop{ARN: arn, Key: "idem-1", Mode: pipeline.StopGraceful, Reason: "cost", RequestedBy: "arn:aws:iam::123456789012:role/ops", At: t0}

	first, created, err := l.CreateStop(ctx, req)
	if err != nil || !created {
		t.Fatalf("first create: created=%v err=%v", created, err)
	}
	retry := req
	retry.At = t0.Add(time.Second)
	second, created, err := l.CreateStop(ctx, retry)
	if err != nil || created {
		t.Fatalf("retried create: created=%v err=%v, want an existing request", created, err)
	}
	if second.ID != first.ID || !second.CreatedAt.Equal(t0) {
		t.Fatalf("retry returned %+v, want the first request %s created at %v", second, first.ID, t0)
	}
	other, created, err := l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "idem-2", Mode: pipeline.StopForce, At: t0})
	if err != nil || !created || other.ID == first.ID {
		t.Fatalf("another key: %+v created=%v err=%v", other, created, err)
	}

	issued, err := l.AdvanceStop(ctx, arn, first.ID, pipeline.StopIssued, t0.Add(200*time.Millisecond), "StopPipelineExecution accepted")
	if err != nil {
		t.Fatal(err)
	}
	if issued.Phase != pipeline.StopIssued || !issued.IssuedAt.Equal(t0.Add(200*time.Millisecond)) {
		t.Fatalf("issued = %+v", issued)
	}
	if _, err := l.AdvanceStop(ctx, arn, first.ID, pipeline.StopIssued, t0.Add(time.Second), "again"); !errors.Is(err, pipeline.ErrStale) {
		t.Fatalf("advance to the same phase: err = %v, want ErrStale", err)
	}
	if _, err := l.NoteStop(ctx, arn, first.ID, t0.Add(2*time.Second), "token answered", "Wait: failure"); err != nil {
		t.Fatal(err)
	}
	closed, err := l.CloseStop(ctx, arn, first.ID, pipeline.ExecutionStopped, t0.Add(4500*time.Millisecond), t0.Add(4*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if closed.Phase != pipeline.StopClosed || closed.Outcome != pipeline.ExecutionStopped || closed.LatencyMillis != 4500 || closed.ExpiresAt == 0 {
		t.Fatalf("closed = %+v", closed)
	}
	var events []string
	for _, e := range closed.Timeline {
		events = append(events, e.Event)
	}
	if want := "[stop requested stop issued token answered stop closed]"; fmt.Sprint(events) != want {
		t.Fatalf("timeline = %v, want %s", events, want)
	}
	if _, err := l.CloseStop(ctx, arn, first.ID, pipeline.ExecutionStopped, t0.Add(time.Hour), time.Time{}); !errors.Is(err, pipeline.ErrDuplicate) {
		t.Fatalf("second close: err = %v, want ErrDuplicate", err)
	}
	if _, err := l.AdvanceStop(ctx, arn, first.ID, pipeline.StopIssued, t0, ""); !errors.Is(err, pipeline.ErrStale) {
		t.Fatalf("advance after close: err = %v, want ErrStale", err)
	}

	got, err := l.GetStop(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExecutionARN != arn.String() || got.Phase != pipeline.StopClosed || got.RequestedBy != req.RequestedBy {
		t.Fatalf("GetStop = %+v", got)
	}
}

func TestStopRequestBadInput(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "stop2")
	if _, _, err := l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Mode: pipeline.StopGraceful, At: t0}); pipeline.Code(err) != pipeline.EInvalid {
		t.Errorf("create without key: err = %v, want invalid", err)
	}
	if _, err := l.AdvanceStop(ctx, arn, "stop-missing", pipeline.StopIssued, t0, ""); pipeline.Code(err) != pipeline.ENotFound {
		t.Errorf("advance a missing stop: err = %v, want not_found", err)
	}
	if _, err := l.CloseStop(ctx, arn, "stop-missing", pipeline.ExecutionExecuting, t0, time.Time{}); pipeline.Code(err) != pipeline.EInvalid {
		t.Errorf("close with a non-terminal outcome: err = %v, want invalid", err)
	}
	if _, err := l.GetStop(ctx, "stop-missing"); pipeline.Code(err) != pipeline.ENotFound {
		t.Errorf("get a missing stop: err = %v, want not_found", err)
	}
}

func TestReadExecutionReturnsEveryKind(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "view1")
	if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: t0}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Train", "Wait", "Fn"} {
		if _, err := l.RecordStepStatus(ctx, pipeline.StepChange{ARN: arn, StepName: name, Status: pipeline.StepExecuting, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.RegisterToken(ctx, registration(arn, "View000001")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.RecordCleanup(ctx, pipeline.CleanupResult{ARN: arn, Token: "View000001", Resource: pipeline.Resource{Kind: "glue-job-run", ID: "jr_1"}, Status: pipeline.CleanupSucceeded, At: t0}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: t0}); err != nil {
		t.Fatal(err)
	}
	// Another execution's items must not leak in.
	if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: execARN(t, "view2"), Status: pipeline.ExecutionExecuting, At: t0}); err != nil {
		t.Fatal(err)
	}
	view, err := l.ReadExecution(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if view.Execution == nil || view.Execution.ExecutionARN != arn.String() || len(view.Steps) != 3 || len(view.Tokens) != 1 || len(view.Cleanups) != 1 || len(view.Stops) != 1 {
		t.Fatalf("view: execution=%v steps=%d tokens=%d cleanups=%d stops=%d", view.Execution, len(view.Steps), len(view.Tokens), len(view.Cleanups), len(view.Stops))
	}
	empty, err := l.ReadExecution(ctx, execARN(t, "nothing"))
	if err != nil || empty.Execution != nil || len(empty.Steps) != 0 {
		t.Fatalf("unknown execution: %+v, %v", empty, err)
	}
}

func TestListStoppingPaginates(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	// Seven executions entered Stopping a minute apart; two more are only
	// executing and one has already stopped.
	for i := range 7 {
		arn := execARN(t, fmt.Sprintf("s%d", i))
		if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: t0.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"x1", "x2"} {
		if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: execARN(t, id), Status: pipeline.ExecutionExecuting, At: t0}); err != nil {
			t.Fatal(err)
		}
	}
	done := execARN(t, "done")
	for i, s := range []pipeline.ExecutionStatus{pipeline.ExecutionStopping, pipeline.ExecutionStopped} {
		if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: done, Status: s, At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}

	// Older than 2 minutes at t0+6m: s0..s4 (entered at t0..t0+4m).
	cutoff := t0.Add(4 * time.Minute)
	var got []string
	cursor, pages := "", 0
	for {
		page, err := l.ListStopping(ctx, cutoff, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, e := range page.Executions {
			got = append(got, mustARN(t, e.ExecutionARN).ExecutionID)
		}
		if page.Cursor == "" {
			break
		}
		cursor = page.Cursor
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
	}
	if want := "[s0 s1 s2 s3 s4]"; fmt.Sprint(got) != want {
		t.Fatalf("stopping executions = %v, want %s (oldest first)", got, want)
	}
	if pages < 3 {
		t.Fatalf("%d pages of at most 2 for 5 items", pages)
	}
	if _, err := l.ListStopping(ctx, cutoff, 2, "not-a-cursor"); pipeline.Code(err) != pipeline.EInvalid {
		t.Fatalf("bad cursor: err = %v, want invalid", err)
	}
}

func TestListActive(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	record := func(id string, s pipeline.ExecutionStatus, at, started time.Time) {
		t.Helper()
		if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: execARN(t, id), Status: s, At: at, StartedAt: started}); err != nil {
			t.Fatal(err)
		}
	}
	record("a1", pipeline.ExecutionExecuting, t0, t0)                            // active since t0
	record("a2", pipeline.ExecutionExecuting, t0.Add(time.Minute), time.Time{})  // no start time: since its first event
	record("a2", pipeline.ExecutionStopping, t0.Add(5*time.Minute), time.Time{}) // still active, since unchanged
	record("a3", pipeline.ExecutionExecuting, t0.Add(time.Hour), t0.Add(time.Hour))
	record("d1", pipeline.ExecutionExecuting, t0, t0)
	record("d1", pipeline.ExecutionSucceeded, t0.Add(time.Second), time.Time{}) // leaves the index

	var got []string
	cursor := ""
	for {
		page, err := l.ListActive(ctx, t0.Add(2*time.Minute), 1, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Executions {
			got = append(got, mustARN(t, e.ExecutionARN).ExecutionID)
		}
		if cursor = page.Cursor; cursor == "" {
			break
		}
	}
	if fmt.Sprint(got) != "[a1 a2]" {
		t.Fatalf("active executions started by t0+2m = %v, want [a1 a2]", got)
	}
	stopping, err := l.ListStopping(ctx, t0.Add(time.Hour), 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(stopping.Executions) != 1 {
		t.Fatalf("stopping = %d executions, want a2 only", len(stopping.Executions))
	}
	// A cursor of one listing is refused by the other.
	page, err := l.ListActive(ctx, t0.Add(time.Hour), 1, "")
	if err != nil || page.Cursor == "" {
		t.Fatalf("first active page: %+v, %v; want a cursor", page, err)
	}
	if _, err := l.ListStopping(ctx, t0.Add(time.Hour), 1, page.Cursor); pipeline.Code(err) != pipeline.EInvalid {
		t.Fatalf("active cursor used for the stopping listing: err = %v, want invalid", err)
	}
}
