package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func sfnResource(n int) pipeline.Resource {
	return pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:m:%d", n)}
}

func TestAppendResourcesBeforeAndAfterTheStartMessage(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "app1")
	const token = "Append0001"

	// The worker is faster than the queue: its registration creates the record.
	rec, err := l.AppendResources(ctx, arn, token, []pipeline.Resource{sfnResource(1), sfnResource(1)})
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != pipeline.TokenOpen || len(rec.CleanupPlan) != 1 || rec.StepName != "" {
		t.Fatalf("created by the worker: %+v", rec)
	}
	// The start message then completes it without losing the worker's resource.
	reg := registration(arn, token)
	rec, created, err := l.CompleteToken(ctx, reg)
	if err != nil || created {
		t.Fatalf("CompleteToken: created=%v err=%v", created, err)
	}
	if rec.StepName != "StartGlue" || rec.Arguments["jobName"] != "etl" || len(rec.CleanupPlan) != 2 {
		t.Fatalf("completed record %+v, want step, arguments and both resources", rec)
	}
	// Registering the same resources again changes nothing.
	again, err := l.AppendResources(ctx, arn, token, []pipeline.Resource{sfnResource(1), reg.CleanupPlan[0]})
	if err != nil || len(again.CleanupPlan) != 2 {
		t.Fatalf("idempotent append: %+v, %v", again.CleanupPlan, err)
	}
	// A start message that repeats is a no-op too.
	if _, created, err := l.CompleteToken(ctx, reg); err != nil || created {
		t.Fatalf("repeated CompleteToken: created=%v err=%v", created, err)
	}
	got, err := l.GetToken(ctx, arn, token)
	if err != nil || len(got.CleanupPlan) != 2 || got.CleanupPlan[0].Key() != sfnResource(1).Key() {
		t.Fatalf("stored plan %+v, %v", got.CleanupPlan, err)
	}

	// Once a delivery has claimed the token, its cleanup runs with the plan
	// it read: a late resource is refused, so the worker stops it itself.
	if _, err := l.ClaimToken(ctx, claim(arn, token, "delivery-1")); err != nil {
		t.Fatal(err)
	}
	var claimed *pipeline.ClaimedError
	if _, err := l.AppendResources(ctx, arn, token, []pipeline.Resource{sfnResource(3)}); !errors.As(err, &claimed) || pipeline.Code(err) != pipeline.EConflict {
		t.Fatalf("append during cleanup: err = %v, want ClaimedError", err)
	}
	if got, _ := l.GetToken(ctx, arn, token); len(got.CleanupPlan) != 2 {
		t.Fatalf("a refused resource reached the plan: %+v", got.CleanupPlan)
	}

	// After the answer the worker is told its resource will not be cleaned.
	if _, err := l.MarkAnswered(ctx, arn, token, pipeline.Answer{By: "test", Outcome: pipeline.OutcomeFailure}); err != nil {
		t.Fatal(err)
	}
	var already *pipeline.AlreadyAnsweredError
	if _, err := l.AppendResources(ctx, arn, token, []pipeline.Resource{sfnResource(2)}); !errors.As(err, &already) || pipeline.Code(err) != pipeline.EConflict {
		t.Fatalf("append after answer: err = %v, want AlreadyAnsweredError", err)
	}
	if _, err := l.AppendResources(ctx, arn, "bad", nil); pipeline.Code(err) != pipeline.EInvalid {
		t.Fatalf("append to a malformed token: %v, want invalid", err)
	}
}

func TestCompleteTokenCreates(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	rec, created, err := l.CompleteToken(ctx, registration(execARN(t, "app2"), "Complete01"))
	if err != nil || !created || rec.StepName != "StartGlue" || rec.State != pipeline.TokenOpen || !rec.RegisteredAt.Equal(t0) {
		t.Fatalf("CompleteToken on nothing: %+v created=%v err=%v", rec, created, err)
	}
}

func TestAppendResourcesConcurrentlyLosesNothing(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "app3")
	const workers = 6
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = l.AppendResources(ctx, arn, "Concurrent", []pipeline.Resource{sfnResource(i), sfnResource(100)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	got, err := l.GetToken(ctx, arn, "Concurrent")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.CleanupPlan) != workers+1 {
		t.Fatalf("plan has %d resources, want %d: %+v", len(got.CleanupPlan), workers+1, got.CleanupPlan)
	}
}

func TestFlagToken(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "flag1")
	if _, err := l.FlagToken(ctx, arn, "Flagged001", "why"); pipeline.Code(err) != pipeline.ENotFound {
		t.Fatalf("flag unknown token: %v, want not_found", err)
	}
	if _, err := l.RegisterToken(ctx, registration(arn, "Flagged001")); err != nil {
		t.Fatal(err)
	}
	rec, err := l.FlagToken(ctx, arn, "Flagged001", "cleanup failed: sfn-execution arn:x: boom")
	if err != nil || !rec.Attention || rec.AttentionReason != "cleanup failed: sfn-execution arn:x: boom" {
		t.Fatalf("flagged %+v, %v", rec, err)
	}
	view, err := l.ReadExecution(ctx, arn)
	if err != nil || len(view.Tokens) != 1 || !view.Tokens[0].Attention {
		t.Fatalf("view tokens %+v, %v", view.Tokens, err)
	}
}

func TestRecordRejection(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	at := time.Date(2026, 11, 25, 23, 59, 0, 0, time.UTC)
	big := make([]byte, 10<<10)
	for i := range big {
		big[i] = 'x'
	}
	for count := 1; count <= 2; count++ {
		err := l.RecordRejection(ctx, pipeline.Rejection{MessageID: "m-1", Source: "arn:aws:sqs:us-east-1:123456789012:callbacks",
			Reason: "token is missing", Excerpt: string(big), ReceiveCount: count, At: at})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := l.RecordRejection(ctx, pipeline.Rejection{MessageID: "m-2", Reason: "not JSON", Excerpt: "hello", ReceiveCount: 1, At: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	got, err := l.ListRejections(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].MessageID != "m-1" || got[0].ReceiveCount != 2 || got[0].Reason != "token is missing" ||
		len(got[0].Excerpt) != pipeline.MaxExcerptBytes || !got[0].At.Equal(at) {
		t.Fatalf("rejections of the day: %+v", got)
	}
	next, err := l.ListRejections(ctx, at.Add(time.Minute))
	if err != nil || len(next) != 1 || next[0].MessageID != "m-2" {
		t.Fatalf("rejections of the next day: %+v, %v", next, err)
	}
}
