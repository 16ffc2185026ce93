package coordinator_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// overlapLedger watches whether a claim of a token starts while the
// execution's read is still in flight: its ReadExecution, once armed,
// waits for a claim to start (or for patience to run out) before it
// returns, and notes which happened.
type overlapLedger struct {
	coordinator.Ledger
	patience time.Duration

	mu         sync.Mutex
	armed      bool
	claimed    chan struct{} // closed when the first claim starts
	overlapped bool
	reads      int
}

func newOverlapLedger(l coordinator.Ledger, patience time.Duration) *overlapLedger {
	return &overlapLedger{Ledger: l, patience: patience, claimed: make(chan struct{})}
}

func (o *overlapLedger) arm() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.armed = true
}

func (o *overlapLedger) claimStarted() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.armed {
		return
	}
	select {
	case <-o.claimed:
	default:
		close(o.claimed)
	}
}

func (o *overlapLedger) ReadExecution(ctx context.Context, arn pipeline.ExecutionARN) (pipeline.View, error) {
	o.mu.Lock()
	armed := o.armed
	o.mu.Unlock()
	v, err := o.Ledger.ReadExecution(ctx, arn)
	if !armed {
		return v, err
	}
	select {
	case <-o.claimed:
		o.mu.Lock()
		o.overlapped = true
		o.reads++
		o.mu.Unlock()
	case <-time.After(o.patience):
		o.mu.Lock()
		o.reads++
		o.mu.Unlock()
	}
	return v, err
}

func (o *overlapLedger) ClaimToken(ctx context.Context, c pipeline.TokenClaim) (pipeline.Token, error) {
	o.claimStarted()
	return o.Ledger.ClaimToken(ctx, c)
}

func (o *overlapLedger) ClaimExisting(ctx context.Context, arn pipeline.ExecutionARN, token, fence string, lease time.Duration) (pipeline.Token, error) {
	o.claimStarted()
	return o.Ledger.ClaimExisting(ctx, arn, token, fence, lease)
}

// TestStoppingClaimsWhileItReadsTheExecution: a Stopping message whose
// token its start message registered is claimed while the execution is
// read, not after, so the cleaner starts one ledger round trip sooner; the
// token is still cleaned and answered exactly once.
func TestStoppingClaimsWhileItReadsTheExecution(t *testing.T) {
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner)
	watch := newOverlapLedger(w.Ledger, 10*time.Second)
	w.useLedger(watch)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	_, stopping := w.registeredThenStopping(t, arn)

	watch.arm()
	res, err := w.deliver(stopping.body, 1)
	if err != nil || res.Action != coordinator.ActionAnswered || res.StepName != "Etl" {
		t.Fatalf("%+v, %v; want answered for step Etl", res, err)
	}
	watch.mu.Lock()
	overlapped, reads := watch.overlapped, watch.reads
	watch.mu.Unlock()
	if reads == 0 || !overlapped {
		t.Errorf("the claim did not start while the execution was read (%d reads): the cleaner waits for both round trips in turn", reads)
	}
	failures, success := w.answers.answers()
	if cleaner.count() != 1 || len(failures) != 1 || len(success) != 0 || aws.ToString(failures[0].CallbackToken) != stopping.m.Token {
		t.Fatalf("%d cleanups, %d failures and %d successes sent; want one cleanup and one failure answer for the Stopping token", cleaner.count(), len(failures), len(success))
	}
	if res, err := w.deliver(stopping.body, 1); err != nil || res.Action != coordinator.ActionDuplicate {
		t.Fatalf("a copy of the Stopping message: %+v, %v; want a duplicate", res, err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Tokens) != 1 || view.Tokens[0].State != pipeline.TokenAnswered || len(view.Cleanups) != 1 || view.Cleanups[0].Attempts != 1 {
		t.Fatalf("tokens %+v, cleanups %+v; want one answered token and one cleanup attempt", view.Tokens, view.Cleanups)
	}
}

// TestStoppingJoinsTheArgumentsToAWorkersRecord: the start message was
// lost and only a worker registered a resource, so the record the early
// claim takes lacks the step's arguments and what they name. The claim
// merges them before the cleaners run, and both resources are cleaned.
// (Neither message nor record names the step: the view finds it through
// SageMaker's listing.)
func TestStoppingJoinsTheArgumentsToAWorkersRecord(t *testing.T) {
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner)
	watch := newOverlapLedger(w.Ledger, 10*time.Second)
	w.useLedger(watch)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{
		callback.ArgGlueJobName: "etl", callback.ArgGlueJobRunID: "jr_1"}))))
	start := w.next(t, arn, callback.StatusExecuting) // lost: never delivered
	worker := pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "job-7"}
	if _, err := w.Ledger.AppendResources(w.Ctx, mustARN(t, arn), start.m.Token, []pipeline.Resource{worker}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	stopping := w.next(t, arn, callback.StatusStopping)
	watch.arm()
	res, err := w.deliver(stopping.body, 1)
	if err != nil || res.Action != coordinator.ActionAnswered {
		t.Fatalf("%+v, %v; want answered", res, err)
	}
	watch.mu.Lock()
	overlapped := watch.overlapped
	watch.mu.Unlock()
	if !overlapped {
		t.Error("the worker's record was not claimed while the execution was read")
	}
	kinds := map[string]bool{}
	for _, r := range cleaner.calls {
		kinds[r.Kind] = true
	}
	if len(cleaner.calls) != 2 || !kinds[pipeline.ResourceBatchJob] || !kinds[pipeline.ResourceGlueJobRun] {
		t.Fatalf("cleaned %+v; want the worker's Batch job and the arguments' Glue job run", cleaner.calls)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	rec, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), start.m.Token)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Arguments) == 0 || len(rec.CleanupPlan) != 2 || rec.State != pipeline.TokenAnswered {
		t.Fatalf("record %+v; want the step's arguments and both resources, answered", rec)
	}
}

// TestStoppingOutwaitsADeadClaimantsLease: the delivery that claimed the
// token was killed before it cleaned (chaos: the process killed while
// DynamoDB Local was paused, the claim written when it resumed). A copy
// that finds the claim must come back only once the lease has lapsed:
// retrying every few seconds spent the queue's receives and sent the
// Stopping message to the dead-letter queue, and the resource was never
// cleaned.
func TestStoppingOutwaitsADeadClaimantsLease(t *testing.T) {
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	_, stopping := w.registeredThenStopping(t, arn)

	// The lease a claimant takes with the default cleaner timeout.
	lease := 2*coordinator.DefaultCleanerTimeout + 30*time.Second
	dead, err := w.Ledger.ClaimExisting(w.Ctx, mustARN(t, arn), stopping.m.Token, "callback killed#0123456789abcdef", lease)
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.deliver(stopping.body, 2)
	var retry *coordinator.RetryError
	if !errors.As(err, &retry) {
		t.Fatalf("a delivery that finds the token claimed: %v; want a retry", err)
	}
	if remaining := time.Until(dead.ClaimUntil); retry.After < remaining {
		t.Errorf("the copy comes back after %s, before the dead claim lapses in %s: each early return spends one of the queue's receives", retry.After, remaining.Round(time.Second))
	}
	if cleaner.count() != 0 {
		t.Fatalf("cleaned %d times under another's claim", cleaner.count())
	}
}
