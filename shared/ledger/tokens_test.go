package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/ledger"
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
	if _, err := l.ClaimToken(ctx, claim(arn, token, "a")); err != nil {
		t.Fatalf("first claim: %v", err)
	}
	var claimed *pipeline.ClaimedError
	if _, err := l.ClaimToken(ctx, claim(arn, token, "b")); !errors.As(err, &claimed) || claimed.ClaimedBy != "a" {
		t.Fatalf("claim held by a, b claims: err = %v, want ClaimedError by a", err)
	}
	if _, err := l.ClaimToken(ctx, claim(arn, token, "a")); err != nil {
		t.Fatalf("holder re-claims: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if rec, err := l.ClaimToken(ctx, claim(arn, token, "b")); err != nil || rec.ClaimedBy != "b" {
		t.Fatalf("claim after the lease lapsed: %+v, %v", rec, err)
	}
	// a's claim lapsed and b holds it now: a's answer mark is refused.
	if _, err := l.MarkAnswered(ctx, arn, token, pipeline.Answer{By: "a", Outcome: pipeline.OutcomeSuccess, Fence: "a"}); !errors.As(err, &claimed) || claimed.ClaimedBy != "b" {
		t.Fatalf("mark by a lapsed claim: err = %v, want ClaimedError by b", err)
	}
	if _, err := l.MarkAnswered(ctx, arn, token, pipeline.Answer{By: "b", Outcome: pipeline.OutcomeSuccess, Fence: "b", Attention: "look"}); err != nil {
		t.Fatal(err)
	}
	if rec, _ := l.GetToken(ctx, arn, token); !rec.Attention || rec.AttentionReason != "look" {
		t.Fatalf("the attention flag did not come with the answer: %+v", rec)
	}
	var already *pipeline.AlreadyAnsweredError
	if _, err := l.ClaimToken(ctx, claim(arn, token, "c")); !errors.As(err, &already) || already.AnsweredBy != "b" {
		t.Fatalf("claim of an answered token: err = %v, want AlreadyAnsweredError by b", err)
	}
}

// TestClaimExisting holds the claim without a read to ClaimToken's rules,
// and to records that exist: it never creates one.
func TestClaimExisting(t *testing.T) {
	ctx := context.Background()
	l, clk := newLedger(t)
	arn := execARN(t, "tok5")
	const token = "Claim00005"
	if _, err := l.ClaimExisting(ctx, arn, token, "a", time.Minute); !errors.Is(err, pipeline.ErrNotFound) {
		t.Fatalf("claim of a token never recorded: err = %v, want ErrNotFound", err)
	}
	if _, err := l.GetToken(ctx, arn, token); !errors.Is(err, pipeline.ErrNotFound) {
		t.Fatalf("the refused claim left a record: err = %v", err)
	}
	if _, err := l.RegisterToken(ctx, registration(arn, token)); err != nil {
		t.Fatal(err)
	}
	rec, err := l.ClaimExisting(ctx, arn, token, "a", time.Minute)
	if err != nil || rec.State != pipeline.TokenClaimed || rec.ClaimedBy != "a" || rec.StepName != "StartGlue" || len(rec.CleanupPlan) != 1 {
		t.Fatalf("first claim: %+v, %v; want it claimed by a with the registered step and plan", rec, err)
	}
	var claimed *pipeline.ClaimedError
	if _, err := l.ClaimExisting(ctx, arn, token, "b", time.Minute); !errors.As(err, &claimed) || claimed.ClaimedBy != "a" {
		t.Fatalf("claim held by a, b claims: err = %v, want ClaimedError by a", err)
	}
	if _, err := l.ClaimToken(ctx, claim(arn, token, "b")); !errors.As(err, &claimed) {
		t.Fatalf("ClaimToken does not see ClaimExisting's claim: err = %v", err)
	}
	if _, err := l.ClaimExisting(ctx, arn, token, "a", time.Minute); err != nil {
		t.Fatalf("holder re-claims: %v", err)
	}
	clk.Advance(2 * time.Minute)
	if rec, err := l.ClaimExisting(ctx, arn, token, "b", time.Minute); err != nil || rec.ClaimedBy != "b" {
		t.Fatalf("claim after the lease lapsed: %+v, %v", rec, err)
	}
	if _, err := l.MarkAnswered(ctx, arn, token, pipeline.Answer{By: "b", Outcome: pipeline.OutcomeFailure, Fence: "b"}); err != nil {
		t.Fatal(err)
	}
	var already *pipeline.AlreadyAnsweredError
	if _, err := l.ClaimExisting(ctx, arn, token, "c", time.Minute); !errors.As(err, &already) || already.AnsweredBy != "b" {
		t.Fatalf("claim of an answered token: err = %v, want AlreadyAnsweredError by b", err)
	}
	if _, err := l.ClaimExisting(ctx, arn, token, "", time.Minute); err == nil {
		t.Fatal("a claim without a fence was taken")
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

// claim is a claim with a minute's lease that reads the record as the
// ledger holds it.
func claim(arn pipeline.ExecutionARN, token, fence string) pipeline.TokenClaim {
	return pipeline.TokenClaim{ARN: arn, Token: token, Fence: fence, Lease: time.Minute, Known: &pipeline.Token{Token: token, State: pipeline.TokenOpen}}
}

func TestClaimCreatesMergesAndReleases(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "tok4")
	const token = "Claim00002"
	plan := []pipeline.Resource{{Kind: "sfn-execution", ID: "arn:aws:states:us-east-1:123456789012:execution:m:e1"}}
	rec, err := l.ClaimToken(ctx, pipeline.TokenClaim{ARN: arn, Token: token, Fence: "f1", Lease: time.Minute, StepName: "Etl", Plan: plan})
	if err != nil || rec.State != pipeline.TokenClaimed || rec.StepName != "Etl" || len(rec.CleanupPlan) != 1 || rec.ExpiresAt == 0 {
		t.Fatalf("claim of an unknown token: %+v, %v; want it created, claimed, with a TTL", rec, err)
	}
	if err := l.ReleaseToken(ctx, arn, token, "someone-else"); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.GetToken(ctx, arn, token); got.State != pipeline.TokenClaimed {
		t.Fatalf("another fence released the claim: %+v", got)
	}
	if err := l.ReleaseToken(ctx, arn, token, "f1"); err != nil {
		t.Fatal(err)
	}
	// A stale read (no plan) costs a retry, never the plan.
	stale := &pipeline.Token{Token: token, State: pipeline.TokenOpen}
	more := []pipeline.Resource{{Kind: "glue-job-run", ID: "jr_1", Params: map[string]string{"jobName": "j"}}}
	rec, err = l.ClaimToken(ctx, pipeline.TokenClaim{ARN: arn, Token: token, Fence: "f2", Lease: time.Minute, Known: stale, Plan: more})
	if err != nil || rec.ClaimedBy != "f2" || len(rec.CleanupPlan) != 2 {
		t.Fatalf("claim from a stale read: %+v, %v; want both resources", rec, err)
	}
}

func TestCleanupRecordsStayBounded(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "cln2")
	long := pipeline.Resource{Kind: "external", ID: strings.Repeat("x", 2048)}
	r := pipeline.CleanupResult{ARN: arn, Token: "Clean00002", Resource: long, Status: pipeline.CleanupFailed, Error: strings.Repeat("e", 1024), At: t0}
	const attempts = 400 // about 440 KB of history unbounded: over DynamoDB's item limit
	var rec pipeline.Cleanup
	var err error
	for i := range attempts {
		r.At = t0.Add(time.Duration(i) * time.Second)
		if rec, err = l.RecordCleanup(ctx, r); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	if rec.Attempts != attempts || len(rec.History) != ledger.MaxCleanupHistory || rec.Resource.ID != long.ID {
		t.Fatalf("after %d attempts: attempts=%d history=%d", attempts, rec.Attempts, len(rec.History))
	}
	if last := rec.History[len(rec.History)-1]; !last.At.Equal(r.At) {
		t.Fatalf("the last history entry is from %s, want the latest attempt at %s", last.At, r.At)
	}
}

func TestPlanCapIsPerToken(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	arn := execARN(t, "cap1")
	const token = "Capped0001"
	batch := func(from int) []pipeline.Resource {
		var rs []pipeline.Resource
		for i := from; i < from+30; i++ {
			rs = append(rs, pipeline.Resource{Kind: "external", ID: fmt.Sprintf("job-%d", i)})
		}
		return rs
	}
	if _, err := l.AppendResources(ctx, arn, token, batch(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendResources(ctx, arn, token, batch(30)); pipeline.Code(err) != pipeline.EInvalid {
		t.Fatalf("a second batch past the cap: %v, want invalid", err)
	}
	if got, _ := l.GetToken(ctx, arn, token); len(got.CleanupPlan) != 30 {
		t.Fatalf("plan holds %d resources, want 30", len(got.CleanupPlan))
	}
}
