package coordinator_test

// Regression tests for the token path (issue 11): each one failed on the
// code before the one token path, against DynamoDB Local and the emulator.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/metrics/metricstest"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// faultySends wraps the emulator's client: it fails the Send* calls that
// fail() picks before they reach SageMaker, and counts per token the
// answers SageMaker accepted.
type faultySends struct {
	*sagemaker.Client
	fail     func(n int64, token string) error // n counts Send* calls from 1
	calls    atomic.Int64
	mu       sync.Mutex
	accepted map[string]int
}

func newFaultySends(c *sagemaker.Client, fail func(n int64, token string) error) *faultySends {
	return &faultySends{Client: c, fail: fail, accepted: map[string]int{}}
}

func (f *faultySends) send(token string, call func() error) error {
	n := f.calls.Add(1)
	if f.fail != nil {
		if err := f.fail(n, token); err != nil {
			return err
		}
	}
	err := call()
	if err == nil {
		f.mu.Lock()
		f.accepted[token]++
		f.mu.Unlock()
	}
	return err
}

func (f *faultySends) SendPipelineExecutionStepFailure(ctx context.Context, in *sagemaker.SendPipelineExecutionStepFailureInput, opts ...func(*sagemaker.Options)) (out *sagemaker.SendPipelineExecutionStepFailureOutput, err error) {
	err = f.send(aws.ToString(in.CallbackToken), func() error {
		out, err = f.Client.SendPipelineExecutionStepFailure(ctx, in, opts...)
		return err
	})
	return out, err
}

func (f *faultySends) SendPipelineExecutionStepSuccess(ctx context.Context, in *sagemaker.SendPipelineExecutionStepSuccessInput, opts ...func(*sagemaker.Options)) (out *sagemaker.SendPipelineExecutionStepSuccessOutput, err error) {
	err = f.send(aws.ToString(in.CallbackToken), func() error {
		out, err = f.Client.SendPipelineExecutionStepSuccess(ctx, in, opts...)
		return err
	})
	return out, err
}

func (f *faultySends) acceptedFor(token string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted[token]
}

var errThrottled = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}

// Defect 1: force on an execution already Stopping answers its callbacks.
func TestForceOnAStoppingExecutionAnswersItsCallbacks(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	token := *w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting).Metadata.Callback.CallbackToken
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Reason: "graceful first"}); err != nil {
		t.Fatal(err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopping)

	res, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Mode: "force", Reason: "now"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answered) != 1 || res.Answered[0] != token || res.Stop.Mode != pipeline.StopForce {
		t.Fatalf("force on a Stopping execution: %+v; want a force stop that answered %s", res, token)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
}

// Defect 1: a force that failed part-way is finished by a retry with the
// same key.
func TestForceRetriedWithItsKeyFinishesWhatAThrottledSendLeft(t *testing.T) {
	w := newWorld(t)
	sends := newFaultySends(w.SageMaker, func(n int64, _ string) error {
		if n == 1 {
			return errThrottled
		}
		return nil
	})
	coord := coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: &forceWorld{countingSageMaker: w.sm, sends: sends}, Access: pipeline.AllowList{Accounts: []string{account}}})
	arn := w.Start(w.CreatePipeline(definition(callbackStep("A", w.CallbackQueue), callbackStep("B", w.CallbackQueue))))
	w.WaitStep(arn, "A", smtypes.StepStatusExecuting)
	w.WaitStep(arn, "B", smtypes.StepStatusExecuting)

	in := coordinator.StopInput{ExecutionARN: arn, Mode: "force", Key: "incident-7", Reason: "cost"}
	if _, err := coord.Stop(w.Ctx, in); err == nil {
		t.Fatal("a force stop whose first answer was throttled reported success")
	}
	res, err := coord.Stop(w.Ctx, in)
	if err != nil {
		t.Fatalf("retry of the force stop: %v", err)
	}
	if res.Stop.Key != "incident-7" {
		t.Fatalf("retry returned stop %+v, want the one of key incident-7", res.Stop)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	for _, s := range w.Steps(arn) {
		if tok := aws.ToString(s.Metadata.Callback.CallbackToken); sends.acceptedFor(tok) != 1 {
			t.Fatalf("token of %s accepted %d answers, want 1", aws.ToString(s.StepName), sends.acceptedFor(tok))
		}
	}
}

// forceWorld routes the answers of a coordinator through faultySends.
type forceWorld struct {
	*countingSageMaker
	sends *faultySends
}

func (f *forceWorld) SendPipelineExecutionStepFailure(ctx context.Context, in *sagemaker.SendPipelineExecutionStepFailureInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepFailureOutput, error) {
	return f.sends.SendPipelineExecutionStepFailure(ctx, in, opts...)
}

func (f *forceWorld) SendPipelineExecutionStepSuccess(ctx context.Context, in *sagemaker.SendPipelineExecutionStepSuccessInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepSuccessOutput, error) {
	return f.sends.SendPipelineExecutionStepSuccess(ctx, in, opts...)
}

// Defect 1: a bulk force includes the executions already Stopping.
func TestBulkForceIncludesStoppingExecutions(t *testing.T) {
	w := newWorld(t)
	pipe := w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue)))
	running, stopping := w.Start(pipe), w.Start(pipe)
	w.WaitStep(running, "Wait", smtypes.StepStatusExecuting)
	w.WaitStep(stopping, "Wait", smtypes.StepStatusExecuting)
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: stopping}); err != nil {
		t.Fatal(err)
	}
	w.WaitStatus(stopping, smtypes.PipelineExecutionStatusStopping)

	res, err := w.coord.BulkStop(w.Ctx, coordinator.BulkStopInput{PipelineName: pipe, Mode: "force"})
	if err != nil {
		t.Fatal(err)
	}
	queued := map[string]bool{}
	for _, q := range res.Executions {
		queued[q.ExecutionARN] = true
	}
	if !queued[running] || !queued[stopping] || len(queued) != 2 {
		t.Fatalf("bulk force queued %v; want both the running and the Stopping execution", queued)
	}
	graceful, err := w.coord.BulkStop(w.Ctx, coordinator.BulkStopInput{PipelineName: pipe, Key: "again"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range graceful.Executions {
		if q.ExecutionARN == stopping {
			t.Fatal("a graceful bulk stop queued an execution already Stopping")
		}
	}
}

// Defect 2: a ConflictException from Send* is not believed until SageMaker
// shows the step no longer waits.
func TestConflictFromSendIsCheckedWithSageMaker(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	sends := newFaultySends(w.SageMaker, func(n int64, _ string) error {
		if n == 1 {
			return &smtypes.ConflictException{Message: aws.String("a transient conflict")}
		}
		return nil
	})
	w.useSageMaker(sends)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{}))))
	start, stopping := w.registeredThenStopping(t, arn)

	if res, err := w.deliver(stopping.body, 1); err == nil {
		t.Fatalf("a conflict from Send* while SageMaker still waits on the step was taken as answered: %+v", res)
	}
	tok, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), start.m.Token)
	if err != nil || tok.State == pipeline.TokenAnswered {
		t.Fatalf("token after the conflict: %+v, %v; want it not answered", tok, err)
	}
	res, err := w.deliver(stopping.body, 2)
	if err != nil || res.Action != coordinator.ActionAnswered {
		t.Fatalf("redelivery: %+v, %v; want answered", res, err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	if n := sends.acceptedFor(stopping.m.Token); n != 1 {
		t.Fatalf("%d accepted answers, want 1", n)
	}
}

// Defect 2: a conflict for a token whose step did end is an answer someone
// else gave: marked answered, not retried.
func TestConflictForAnEndedStepCountsAsAnswered(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	// Someone else answers first, with a request token of their own.
	if _, err := w.SageMaker.SendPipelineExecutionStepFailure(w.Ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
		CallbackToken: aws.String(start.m.Token), ClientRequestToken: aws.String(strings.Repeat("x", 40))}); err != nil {
		t.Fatal(err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	res, err := w.deliver(w.next(t, arn, callback.StatusStopping).body, 1)
	if err != nil || (res.Action != coordinator.ActionAnswered && res.Action != coordinator.ActionDuplicate) {
		t.Fatalf("%+v, %v; want settled", res, err)
	}
	tok, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), start.m.Token)
	if err != nil || tok.State != pipeline.TokenAnswered {
		t.Fatalf("token %+v, %v", tok, err)
	}
}

// Defect 3: a stop SageMaker refused is not a stop under way: the next
// callback step still gets its worker.
func TestThrottledStopIsNotAStopUnderWay(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{}, func(o *emulator.Options) {
		o.Faults = map[string]emulator.Fault{"StopPipelineExecution": {ThrottleRate: 1}}
	})
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgWorkerLambda: "worker"}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); pipeline.Code(err) != pipeline.EThrottled {
		t.Fatalf("stop: %v, want throttled", err)
	}
	res, err := w.deliver(start.body, 1)
	if err != nil || res.Action != coordinator.ActionRegistered {
		t.Fatalf("start message after a refused stop: %+v, %v; want registered and handed off", res, err)
	}
	if len(w.lambda.Calls()) != 1 {
		t.Fatalf("%d worker invocations, want 1", len(w.lambda.Calls()))
	}
	if got := w.Status(arn); got != smtypes.PipelineExecutionStatusExecuting {
		t.Fatalf("execution %s, want still Executing", got)
	}
}

// Defect 4: overlapping copies of one SQS message (one MessageId) clean
// and answer once.
func TestOverlappingCopiesOfOneMessageCleanAndAnswerOnce(t *testing.T) {
	const copies = 3
	var returned atomic.Int64
	othersBack := make(chan struct{})
	cleaner := &fakeCleaner{fn: func(n int, _ pipeline.Resource) error {
		if n == 1 {
			// Hold the first cleanup until the other copies have been
			// handled (or have run into the cleaner themselves).
			select {
			case <-othersBack:
			case <-time.After(5 * time.Second):
			}
		}
		return nil
	}}
	w := newCBWorld(t, cleaner)
	sends := newFaultySends(w.SageMaker, nil)
	w.useSageMaker(sends)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	_, stopping := w.registeredThenStopping(t, arn)

	var wg sync.WaitGroup
	for range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = w.redeliver("the-one-message-id", stopping.body, 1)
			if returned.Add(1) == copies-1 {
				close(othersBack)
			}
		}()
	}
	wg.Wait()
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	if n := cleaner.count(); n != 1 {
		t.Fatalf("%d cleanups for %d copies of one message, want 1", n, copies)
	}
	if n := sends.calls.Load(); n != 1 {
		t.Fatalf("%d Send* calls for %d copies of one message, want 1", n, copies)
	}
}

// Defect 12: a start message redelivered after its step ended starts no
// work.
func TestRedeliveredStartAfterTheStepEndedStartsNoWork(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgWorkerLambda: "worker"}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.deliver(start.body, 1); err != nil {
		t.Fatal(err)
	}
	// The worker finishes and answers the step itself.
	if _, err := w.SageMaker.SendPipelineExecutionStepSuccess(w.Ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
		CallbackToken: aws.String(start.m.Token), OutputParameters: []smtypes.OutputParameter{{Name: aws.String("out"), Value: aws.String("1")}}}); err != nil {
		t.Fatal(err)
	}
	w.WaitStep(arn, "Etl", smtypes.StepStatusSucceeded)
	res, err := w.deliver(start.body, 2)
	if err != nil || res.Action != coordinator.ActionDuplicate {
		t.Fatalf("redelivered start after the step ended: %+v, %v; want a duplicate", res, err)
	}
	if n := len(w.lambda.Calls()); n != 1 {
		t.Fatalf("%d worker invocations, want 1", n)
	}
}

// Defect 13: an idempotent retry after the stop completed returns the
// original stop.
func TestIdempotentRetryAfterTheStopCompletedReturnsIt(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	in := coordinator.StopInput{ExecutionARN: arn, Mode: "force", Key: "incident-9"}
	first, err := w.coord.Stop(w.Ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	again, err := w.coord.Stop(w.Ctx, in)
	if err != nil {
		t.Fatalf("retry after the stop completed: %v; want the original stop", err)
	}
	if again.Stop.ID != first.Stop.ID || again.Created {
		t.Fatalf("retry returned %+v, want stop %s", again.Stop, first.Stop.ID)
	}
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Key: "a-new-key"}); pipeline.Code(err) != pipeline.EConflict {
		t.Fatalf("a new stop of an ended execution: %v, want a conflict", err)
	}
}

// Defect 14: a stop that ends within the second SageMaker reports has a
// timeline that never runs backwards and a latency.
func TestFastStopTimelineNeverRunsBackwards(t *testing.T) {
	w := newWorld(t)
	emf := metricstest.Capture(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	res, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Mode: "force"})
	if err != nil {
		t.Fatal(err)
	}
	heard := &observer{}
	status := coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: w.sm, Observer: heard})
	// SageMaker's events carry whole seconds: the end may read earlier
	// than the request.
	ended := res.Stop.CreatedAt.Truncate(time.Second)
	if _, err := status.RecordExecution(w.Ctx, pipeline.ExecutionChange{ARN: mustARN(t, arn), Status: pipeline.ExecutionStopped, At: ended, EndedAt: ended}); err != nil {
		t.Fatal(err)
	}
	view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	stop := view.Stops[0]
	if stop.Phase != pipeline.StopClosed || stop.ClosedAt.Before(stop.IssuedAt) || stop.ClosedAt.Before(stop.CreatedAt) {
		t.Fatalf("stop created %s issued %s closed %s: the close runs before the issue", stop.CreatedAt, stop.IssuedAt, stop.ClosedAt)
	}
	for i := 1; i < len(stop.Timeline); i++ {
		if stop.Timeline[i].At.Before(stop.Timeline[i-1].At) {
			t.Fatalf("timeline runs backwards at %d: %+v", i, stop.Timeline)
		}
	}
	if n := emf.Sum(metrics.StopsClosed, metrics.DimTrigger, metrics.TriggerAPI, metrics.DimOutcome, string(pipeline.ExecutionStopped)); n != 1 {
		t.Fatalf("%v closed stops in the metrics, want 1", n)
	}
	// The Stop Completed event goes out once, also when the end is heard again.
	if _, err := status.RecordExecution(w.Ctx, pipeline.ExecutionChange{ARN: mustARN(t, arn), Status: pipeline.ExecutionStopped, At: ended, EndedAt: ended}); err != nil {
		t.Fatal(err)
	}
	if len(heard.stops) != 1 || heard.stops[0].ID != res.Stop.ID || heard.stops[0].Phase != pipeline.StopClosed || heard.triggers[0] != metrics.TriggerAPI {
		t.Fatalf("observer heard %+v (%v), want the closed stop once", heard.stops, heard.triggers)
	}
}

// observer records the stops it hears of.
type observer struct {
	stops    []pipeline.StopRequest
	triggers []string
}

func (o *observer) StopClosed(_ context.Context, trigger string, stop pipeline.StopRequest, _ pipeline.View) {
	o.stops = append(o.stops, stop)
	o.triggers = append(o.triggers, trigger)
}

// Done-when scenario: a force stop racing the Stopping message and the
// sweeper answers each token exactly once, and the execution stops.
func TestForceRacingStoppingAndSweeperAnswersOnce(t *testing.T) {
	cleaner := &fakeCleaner{fn: func(int, pipeline.Resource) error { time.Sleep(50 * time.Millisecond); return nil }}
	w := newCBWorld(t, cleaner)
	sends := newFaultySends(w.SageMaker, nil)
	w.useSageMaker(sends)
	force := coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: &forceWorld{countingSageMaker: w.sm, sends: sends}, Access: pipeline.AllowList{Accounts: []string{account}}})
	arn := w.Start(w.CreatePipeline(definition(
		callbackStepWith("A", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}),
		callbackStepWith("B", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN + "b"}))))
	for range 2 {
		if _, err := w.deliver(w.next(t, arn, callback.StatusExecuting).body, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	msgs := []message{w.next(t, arn, callback.StatusStopping), w.next(t, arn, callback.StatusStopping)}
	steps := w.Steps(arn)

	var wg sync.WaitGroup
	run := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }
	for _, m := range msgs {
		run(func() { _, _ = w.deliver(m.body, 1) })
	}
	run(func() { _, _ = force.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Mode: "force", Key: "race"}) })
	for _, s := range steps {
		run(func() {
			_ = w.cb.CleanupAndAnswer(w.Ctx, mustARN(t, arn), aws.ToString(s.Metadata.Callback.CallbackToken), true, "sweeper")
		})
	}
	wg.Wait()
	// Whatever lost a race comes back, as SQS and the next sweep would.
	for _, m := range msgs {
		if _, err := w.deliver(m.body, 2); err != nil {
			var retry *coordinator.RetryError
			if !errors.As(err, &retry) {
				t.Fatal(err)
			}
		}
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	for _, s := range steps {
		if tok := aws.ToString(s.Metadata.Callback.CallbackToken); sends.acceptedFor(tok) != 1 {
			t.Fatalf("token of %s: %d accepted answers, want 1", aws.ToString(s.StepName), sends.acceptedFor(tok))
		}
	}
}

// Issue 11, defect 10 (and issue 15): an execution retried with
// RetryPipelineExecution is seen again: the ledger reopens it, and a new
// stop of the new attempt is a stop of its own, while a retry of the first
// request still gets the first stop.
func TestRetriedExecutionIsStoppedAgain(t *testing.T) {
	w := newWorld(t)
	status := coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: w.sm})
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	record := func(s pipeline.ExecutionStatus) {
		t.Helper()
		desc, err := w.SageMaker.DescribePipelineExecution(w.Ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		c := pipeline.ExecutionChange{ARN: mustARN(t, arn), Status: s, At: aws.ToTime(desc.LastModifiedTime)}
		if s.Terminal() {
			c.EndedAt = c.At
		}
		if _, err := status.RecordExecution(w.Ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	first, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Mode: "force"})
	if err != nil {
		t.Fatal(err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	record(pipeline.ExecutionStopped)

	if _, err := w.SageMaker.RetryPipelineExecution(w.Ctx, &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn), ClientRequestToken: aws.String(strings.Repeat("r", 32))}); err != nil {
		t.Fatal(err)
	}
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	record(pipeline.ExecutionExecuting)

	second, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Mode: "force"})
	if err != nil {
		t.Fatalf("stop of the retried execution: %v", err)
	}
	if second.Stop.ID == first.Stop.ID || !second.Created || len(second.Answered) != 1 {
		t.Fatalf("second stop %+v, want a new stop that answered the new attempt's token", second)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	record(pipeline.ExecutionStopped)
	view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Stops) != 2 || view.Stops[0].Phase != pipeline.StopClosed || view.Stops[1].Phase != pipeline.StopClosed {
		t.Fatalf("stops %+v, want both attempts' stops closed", view.Stops)
	}
	if again, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Mode: "force"}); err != nil || again.Stop.ID != second.Stop.ID {
		t.Fatalf("repeat after the end: %+v, %v; want the latest attempt's stop", again.Stop, err)
	}
}
