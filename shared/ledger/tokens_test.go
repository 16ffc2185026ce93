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

func registration(arn pipeline.ExecutionARN, token string) pipeline.TokenRegistration {
	return pipeline.TokenRegistration{
		ARN:       arn,
		Token:     token,
		StepName:  "StartGlue",
		Arguments: map[string]any{"jobName": "etl", "retries": 3.0},
		CleanupPlan: []pipeline.Resource{
			{Kind: "glue-job-run", ID: "jr_123", Params: map[string]string{"jobName": "etl"}},
		},
	}
}

func TestRegisterTokenOnce(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "tok1")
	rec, err := l.RegisterToken(ctx, registration(arn, "AbCdE12345"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != pipeline.TokenOpen || !rec.RegisteredAt.Equal(t0) {
		t.Fatalf("registered %+v", rec)
	}
	again := registration(arn, "AbCdE12345")
	again.StepName = "Other"
	existing, err := l.RegisterToken(ctx, again)
	if !errors.Is(err, pipeline.ErrDuplicate) {
		t.Fatalf("second registration: err = %v, want ErrDuplicate", err)
	}
	if existing.StepName != "StartGlue" {
		t.Fatalf("second registration overwrote the step: %q", existing.StepName)
	}

	got, err := l.GetToken(ctx, arn, "AbCdE12345")
	if err != nil {
		t.Fatal(err)
	}
	if got.Arguments["jobName"] != "etl" || got.Arguments["retries"] != 3.0 || len(got.CleanupPlan) != 1 || got.CleanupPlan[0].Params["jobName"] != "etl" {
		t.Fatalf("GetToken = %+v", got)
	}
	found, err := l.FindToken(ctx, "AbCdE12345")
	if err != nil {
		t.Fatal(err)
	}
	if found.ExecutionARN != arn.String() || found.StepName != "StartGlue" {
		t.Fatalf("FindToken = %+v", found)
	}
	if _, err := l.FindToken(ctx, "ZZZZZ99999"); pipeline.Code(err) != pipeline.ENotFound {
		t.Fatalf("FindToken(unknown) err = %v, want not_found", err)
	}
	if _, err := l.RegisterToken(ctx, registration(arn, "short")); pipeline.Code(err) != pipeline.EInvalid {
		t.Fatalf("RegisterToken(bad token) err = %v, want invalid", err)
	}
}

func TestMarkAnsweredExactlyOnceUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "tok2")
	if _, err := l.RegisterToken(ctx, registration(arn, "Race000001")); err != nil {
		t.Fatal(err)
	}
	const workers = 12
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		errs    = make([]error, workers)
		winners []string
		mu      sync.Mutex
	)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			by := fmt.Sprintf("worker-%d", i)
			_, errs[i] = l.MarkAnswered(ctx, arn, "Race000001", pipeline.Answer{By: by, Outcome: pipeline.OutcomeFailure, Reason: "stopped"})
			if errs[i] == nil {
				mu.Lock()
				winners = append(winners, by)
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("%d workers answered the token, want exactly 1: %v", len(winners), winners)
	}
	for i, err := range errs {
		if err == nil {
			continue
		}
		var already *pipeline.AlreadyAnsweredError
		if !errors.As(err, &already) {
			t.Fatalf("worker %d: err = %v, want AlreadyAnsweredError", i, err)
		}
		if already.AnsweredBy != winners[0] || already.Outcome != pipeline.OutcomeFailure {
			t.Fatalf("worker %d told answered by %q (%s), want %q", i, already.AnsweredBy, already.Outcome, winners[0])
		}
		if pipeline.Code(err) != pipeline.EConflict {
			t.Fatalf("code = %q, want conflict", pipeline.Code(err))
		}
	}
	rec, err := l.GetToken(ctx, arn, "Race000001")
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != pipeline.TokenAnswered || rec.AnsweredBy != winners[0] || rec.Reason != "stopped" || rec.ExpiresAt == 0 {
		t.Fatalf("answered token = %+v", rec)
	}
	if _, err := l.MarkAnswered(ctx, arn, "Nope000000", pipeline.Answer{By: "x", Outcome: pipeline.OutcomeSuccess}); pipeline.Code(err) != pipeline.ENotFound {
		t.Fatalf("MarkAnswered(unknown) err = %v, want not_found", err)
	}
}

func TestClaimToken(t *testing.T) {
	ctx := context.Background()
	l, clk := newLedger(t)
	arn := execARN(t, "tok3")
	const token = "Claim00001"
	if _, err := l.RegisterToken(ctx, registration(arn, token)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ClaimToken(ctx, arn, token, "a", time.Minute); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	var claimed *pipeline.ClaimedError
	if _, err := l.ClaimToken(ctx, arn, token, "b", time.Minute); !errors.As(err, &claimed) || claimed.ClaimedBy != "a" {
		t.Fatalf("claim held by a, b claims: err = %v, want ClaimedError by a", err)
	}
	if _, err := l.ClaimToken(ctx, arn, token, "a", time.Minute); err != nil {
		t.Fatalf("holder re-claims: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if rec, err := l.ClaimToken(ctx, arn, token, "b", time.Minute); err != nil || rec.ClaimedBy != "b" {
		t.Fatalf("claim after the lease lapsed: %+v, %v", rec, err)
	}
	if _, err := l.MarkAnswered(ctx, arn, token, pipeline.Answer{By: "b", Outcome: pipeline.OutcomeSuccess}); err != nil {
		t.Fatal(err)
	}
	var already *pipeline.AlreadyAnsweredError
	if _, err := l.ClaimToken(ctx, arn, token, "c", time.Minute); !errors.As(err, &already) || already.AnsweredBy != "b" {
		t.Fatalf("claim of an answered token: err = %v, want AlreadyAnsweredError by b", err)
	}
}

func TestRecordCleanupAttempts(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "cln1")
	res := pipeline.Resource{Kind: "sfn-execution", ID: "arn:aws:states:us-east-1:123456789012:execution:m:e1"}
	r := pipeline.CleanupResult{ARN: arn, Token: "Clean00001", Resource: res, Status: pipeline.CleanupFailed, Error: "throttled", At: t0, Duration: 30 * time.Millisecond}
	if _, err := l.RecordCleanup(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Status, r.Error, r.At = pipeline.CleanupSucceeded, "", t0.Add(time.Second)
	rec, err := l.RecordCleanup(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Attempts != 2 || rec.Status != pipeline.CleanupSucceeded || rec.LastError != "" || len(rec.History) != 2 {
		t.Fatalf("after two attempts: %+v", rec)
	}
	if !rec.FirstAt.Equal(t0) || !rec.LastAt.Equal(t0.Add(time.Second)) || rec.History[0].Error != "throttled" || rec.History[0].Duration != 30*time.Millisecond {
		t.Fatalf("attempt history wrong: %+v", rec)
	}
	if rec.Resource.Kind != res.Kind || rec.Resource.ID != res.ID {
		t.Fatalf("resource = %+v", rec.Resource)
	}
	if rec.ExpiresAt == 0 {
		t.Fatal("cleanup record has no TTL")
	}
}
