package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
	"github.com/stopcoord/stopcoord/shared/worker"
)

const (
	sampleARN   = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train-model/execution/p4jn9xou8a8s"
	sampleToken = "26vcYbeWsZ"
)

// fakes is one set of faked AWS clients behind the real use case.
type fakes struct {
	ledger  *testLedger
	sm      *fakeSageMaker
	work    *fakeWork
	cleaner *fakeCleaner
	vis     *fakeVisibility
}

func newHandler(tb testing.TB, concurrency int, l time.Duration) (*handler, *fakes) {
	f := &fakes{
		ledger:  newTestLedger(tb),
		sm:      &fakeSageMaker{latency: latency(l), steps: map[string][]smtypes.PipelineExecutionStep{}},
		work:    &fakeWork{latency: latency(l)},
		cleaner: &fakeCleaner{latency: latency(l)},
		vis:     &fakeVisibility{},
	}
	cb := coordinator.New(coordinator.Deps{Ledger: f.ledger, SageMaker: f.sm, Workers: worker.Lambda{Client: f.work}, SQS: f.work, Cleaner: f.cleaner, Scope: allInScope(tb),
		Access: pipeline.AllowList{Accounts: []string{"123456789012"}}})
	return &handler{consumer: cb, sqs: f.vis, queueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/callbacks", concurrency: concurrency}, f
}

func invoke(t testing.TB, h *handler, raw []byte) []string {
	t.Helper()
	out, err := lambda.NewHandler(h.handle).Invoke(context.Background(), raw)
	if err != nil {
		t.Fatalf("handler failed the whole batch: %v", err)
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	return failed
}

// TestEverySample pushes each events/sqs callback sample through the
// runtime's decode path into the real use case with faked AWS clients.
func TestEverySample(t *testing.T) {
	tests := []struct {
		sample     string
		stepStatus smtypes.StepStatus
		wantFailed []string
		check      func(t *testing.T, f *fakes)
	}{
		{"callback-start.json", smtypes.StepStatusExecuting, nil, func(t *testing.T, f *fakes) {
			tok := f.ledger.token(sampleARN, sampleToken)
			if tok.StepName != "Etl" || len(tok.CleanupPlan) != 1 || f.work.sends.Load() != 1 || f.sm.failures.Load() != 0 {
				t.Errorf("token %+v, %d sends, %d answers", tok, f.work.sends.Load(), f.sm.failures.Load())
			}
		}},
		{"callback-stopping.json", smtypes.StepStatusStopping, nil, answeredOnce},
		{"callback-stopping-status-key.json", smtypes.StepStatusStopping, nil, answeredOnce},
		{"callback-batch-mixed.json", smtypes.StepStatusStopping, []string{"9f5d7a6e-1c8b-4d0e-8f3a-4b5c6d7e8f9a"}, func(t *testing.T, f *fakes) {
			answeredOnce(t, f)
			if len(f.ledger.rejections()) != 1 || !strings.Contains(f.ledger.rejections()[0].Reason, "not a pipeline execution ARN") {
				t.Errorf("rejections %+v", f.ledger.rejections())
			}
			if tok := f.ledger.token(sampleARN, "Xy12Ab34Cd"); tok.State != pipeline.TokenOpen || f.work.sends.Load() != 1 {
				t.Errorf("the start record: %+v, %d sends", tok, f.work.sends.Load())
			}
		}},
	}
	seen := map[string]bool{"stop-queue-batch.json": true} // the stop-queue function's sample
	for _, tt := range tests {
		seen[tt.sample] = true
		t.Run(tt.sample, func(t *testing.T) {
			raw, err := samples.FS.ReadFile("sqs/" + tt.sample)
			if err != nil {
				t.Fatal(err)
			}
			// One at a time, so the duplicate in the mixed batch comes after
			// the answer and is a no-op rather than a claimed retry.
			h, f := newHandler(t, 1, 0)
			// The mixed batch also starts a second step.
			f.sm.steps[sampleARN] = []smtypes.PipelineExecutionStep{callbackStep("Etl", sampleToken, tt.stepStatus), callbackStep("Load", "Xy12Ab34Cd", smtypes.StepStatusExecuting)}
			if got := invoke(t, h, raw); !slices.Equal(got, tt.wantFailed) {
				t.Fatalf("failed %v, want %v", got, tt.wantFailed)
			}
			tt.check(t, f)
		})
	}
	entries, err := samples.FS.ReadDir("sqs")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !seen[e.Name()] {
			t.Errorf("sample %s has no case here", e.Name())
		}
	}
}

func answeredOnce(t *testing.T, f *fakes) {
	t.Helper()
	tok := f.ledger.token(sampleARN, sampleToken)
	if f.sm.failures.Load() != 1 || f.cleaner.calls.Load() != 1 || tok.State != pipeline.TokenAnswered || tok.StepName != "Etl" {
		t.Errorf("%d answers, %d cleanups, token %+v; want one each and the token answered", f.sm.failures.Load(), f.cleaner.calls.Load(), tok)
	}
}

// consumerFunc is a one-method fake consumer.
type consumerFunc func(coordinator.Delivery) (coordinator.CallbackResult, error)

func (f consumerFunc) HandleCallback(_ context.Context, d coordinator.Delivery) (coordinator.CallbackResult, error) {
	return f(d)
}

// TestBatchFailsExactlyTheRecordsToRetry checks the translation of every
// outcome, the concurrency bound, a panic contained to its record, and the
// backoff applied as a visibility change.
func TestBatchFailsExactlyTheRecordsToRetry(t *testing.T) {
	var inFlight, peak atomic.Int64
	h := &handler{concurrency: 3, queueURL: "https://q", sqs: &fakeVisibility{}, backoff: fixedBackoff(7 * time.Second)}
	h.consumer = consumerFunc(func(d coordinator.Delivery) (coordinator.CallbackResult, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(5 * time.Millisecond)
		switch d.Body {
		case "panic":
			panic("boom")
		case "reject":
			return coordinator.CallbackResult{}, &coordinator.RejectedError{Reason: "bad"}
		case "retry":
			return coordinator.CallbackResult{}, &coordinator.RetryError{After: 4 * time.Second, Err: errors.New("cleaner failed")}
		case "error":
			return coordinator.CallbackResult{}, errors.New("DynamoDB unavailable")
		case "duplicate":
			return coordinator.CallbackResult{Action: coordinator.ActionDuplicate}, nil
		}
		return coordinator.CallbackResult{Action: coordinator.ActionAnswered}, nil
	})
	bodies := []string{"ok", "panic", "reject", "retry", "error", "duplicate", "ok", "ok", "ok", "ok"}
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b, ReceiptHandle: fmt.Sprintf("rh%d", i),
			Attributes: map[string]string{"ApproximateReceiveCount": "2"}})
	}
	raw, _ := json.Marshal(ev)
	if got, want := invoke(t, h, raw), []string{"m1", "m2", "m3", "m4"}; !slices.Equal(got, want) {
		t.Fatalf("failed %v, want %v", got, want)
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Fatalf("peak concurrency %d, want up to the bound of 3 (and some overlap)", p)
	}
	// The retried record waits its backoff; the failed one a jittered
	// backoff, not the queue's whole visibility timeout.
	got := map[string]int32{}
	for _, c := range h.sqs.(*fakeVisibility).changes {
		if aws.ToString(c.QueueUrl) != "https://q" {
			t.Fatalf("visibility change on %s", aws.ToString(c.QueueUrl))
		}
		got[aws.ToString(c.ReceiptHandle)] = c.VisibilityTimeout
	}
	if len(got) != 2 || got["rh3"] != 4 || got["rh4"] != 7 {
		t.Fatalf("visibility changes %v, want rh3 delayed 4 s and rh4 7 s", got)
	}
}

// fixedBackoff is a backoff that always waits the same.
type fixedBackoff time.Duration

func (f fixedBackoff) BackoffDelay(int, error) (time.Duration, error) { return time.Duration(f), nil }

// TestDeadlineReserveKeepsThePartialBatchResponse (issue 11, defect 7): a
// record still running when the reserve is reached is failed for
// redelivery, the ones done stay done, and the handler returns before the
// invocation's deadline.
func TestDeadlineReserveKeepsThePartialBatchResponse(t *testing.T) {
	h := &handler{concurrency: 1, reserve: time.Second}
	h.consumer = stuckUntilDone{consumerFunc(func(coordinator.Delivery) (coordinator.CallbackResult, error) {
		return coordinator.CallbackResult{Action: coordinator.ActionAnswered}, nil
	})}
	var ev events.SQSEvent
	for i, b := range []string{"ok", "stuck", "ok"} {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("m%d", i), Body: b})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := h.handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the handler returned after the invocation's deadline: Lambda would have lost its response")
	}
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	if !slices.Equal(failed, []string{"m1", "m2"}) {
		t.Fatalf("failed %v, want the stuck record and the one never started", failed)
	}
}

// stuckUntilDone holds a "stuck" delivery (a cleaner that hangs past the
// invocation's time) until its context ends, as every AWS call would.
type stuckUntilDone struct{ Consumer }

func (s stuckUntilDone) HandleCallback(ctx context.Context, d coordinator.Delivery) (coordinator.CallbackResult, error) {
	if d.Body != "stuck" {
		return s.Consumer.HandleCallback(ctx, d)
	}
	<-ctx.Done()
	return coordinator.CallbackResult{}, ctx.Err()
}

// TestConcurrentDuplicatesInOneBatch: five copies of the Stopping message in
// one batch, handled at once, answer once; the copies that found the token
// claimed are failed for redelivery, and on redelivery they are no-ops.
func TestConcurrentDuplicatesInOneBatch(t *testing.T) {
	h, f := newHandler(t, 5, time.Millisecond)
	f.sm.steps[sampleARN] = []smtypes.PipelineExecutionStep{callbackStep("Etl", sampleToken, smtypes.StepStatusStopping)}
	raw, _ := samples.FS.ReadFile("sqs/callback-stopping.json")
	var one events.SQSEvent
	if err := json.Unmarshal(raw, &one); err != nil {
		t.Fatal(err)
	}
	var batch events.SQSEvent
	for i := range 5 {
		r := one.Records[0]
		r.MessageId = fmt.Sprintf("copy-%d", i)
		batch.Records = append(batch.Records, r)
	}
	raw, _ = json.Marshal(batch)
	failed := invoke(t, h, raw)
	if f.sm.failures.Load() != 1 || len(failed) > 4 {
		t.Fatalf("%d answers and failed %v, want one answer", f.sm.failures.Load(), failed)
	}
	if again := invoke(t, h, raw); len(again) != 0 || f.sm.failures.Load() != 1 {
		t.Fatalf("redelivery failed %v with %d answers, want none failed and still one answer", again, f.sm.failures.Load())
	}
}

func TestLoadConfig(t *testing.T) {
	_, err := loadConfig(settings.FromMap(map[string]string{settings.CleanupMaxAttempts: "0", settings.CleanerTimeout: "forever", settings.CallbackConcurrency: "99"}))
	for _, want := range []string{settings.TableName, settings.CallbackQueueURL, settings.AllowedAccounts, settings.CleanupMaxAttempts, settings.CleanerTimeout, settings.CallbackConcurrency} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("err = %v, want it to name %s", err, want)
		}
	}
	c, err := loadConfig(settings.FromMap(map[string]string{settings.TableName: "ledger", settings.CallbackQueueURL: "https://q", settings.AllowedAccounts: "123456789012"}))
	if err != nil || c.concurrency != DefaultConcurrency || c.maxAttempts != 3 || c.cleanerTimeout != 30*time.Second {
		t.Fatalf("defaults %+v, %v", c, err)
	}
}

// allInScope is a cleanup scope with every kind in it.
func allInScope(tb testing.TB) pipeline.CleanupScope {
	m := map[string][]string{}
	for _, k := range pipeline.ScopeKinds() {
		m[k] = []string{"*"}
	}
	raw, _ := json.Marshal(m)
	s, err := pipeline.ParseCleanupScope(string(raw), pipeline.ScopeKinds())
	if err != nil {
		tb.Fatal(err)
	}
	return s
}
