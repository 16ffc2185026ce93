package coordinator_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestStartMessageRegistersAndHandsOff(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	work := w.Queue("work")
	worker := "arn:aws:lambda:us-east-1:123456789012:function:etl-worker"
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{
		callback.ArgWorkerLambda: worker, callback.ArgWorkerQueue: work, callback.ArgSFNExecutionARN: sfnARN, "rows": 5,
	}))))
	start := w.next(t, arn, callback.StatusExecuting)

	res, err := w.deliver(start.body, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != coordinator.ActionRegistered || res.StepName != "Etl" {
		t.Fatalf("result %+v, want registered for step Etl", res)
	}
	tok, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), start.m.Token)
	if err != nil {
		t.Fatal(err)
	}
	if tok.StepName != "Etl" || tok.State != pipeline.TokenOpen || tok.Arguments["rows"] != 5.0 ||
		len(tok.CleanupPlan) != 1 || tok.CleanupPlan[0].Key() != (pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: sfnARN}).Key() {
		t.Fatalf("token record %+v", tok)
	}
	calls := w.lambda.Calls()
	if len(calls) != 1 || calls[0].function != worker || calls[0].invocationType != "Event" {
		t.Fatalf("worker invocations %+v, want one Event invocation of %s", calls, worker)
	}
	var cc callback.Context
	if err := json.Unmarshal(calls[0].payload, &cc); err != nil || cc.Token != start.m.Token || cc.StepName != "Etl" || cc.ExecutionARN != arn || cc.Status != callback.StatusExecuting {
		t.Fatalf("worker payload %s (%v)", calls[0].payload, err)
	}
	out, err := w.SQS.ReceiveMessage(w.Ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(work)})
	if err != nil || len(out.Messages) != 1 || !strings.Contains(aws.ToString(out.Messages[0].Body), start.m.Token) {
		t.Fatalf("work queue: %+v, %v", out.Messages, err)
	}

	// A redelivered start message registers nothing new and hands off again
	// (the first hand-off may be what failed).
	if res, err := w.deliver(start.body, 2); err != nil || res.Action != coordinator.ActionRegistered {
		t.Fatalf("redelivery: %+v, %v", res, err)
	}
	if n := len(w.lambda.Calls()); n != 2 {
		t.Fatalf("%d worker invocations after a redelivery, want 2", n)
	}
}

func TestStartMessageDuringAStopIsAnsweredAtOnce(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgWorkerLambda: "worker"}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Reason: "budget exceeded"}); err != nil {
		t.Fatal(err)
	}

	res, err := w.deliver(start.body, 1)
	if err != nil || res.Action != coordinator.ActionAnswered || res.Outcome != pipeline.OutcomeFailure {
		t.Fatalf("start during a stop: %+v, %v; want answered with a failure", res, err)
	}
	if len(w.lambda.Calls()) != 0 {
		t.Fatal("the worker was started although a stop was under way")
	}
	failures, _ := w.answers.answers()
	if len(failures) != 1 || !strings.HasPrefix(aws.ToString(failures[0].FailureReason), "budget exceeded") {
		t.Fatalf("answers %+v", failures)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	// The Stopping message that follows finds the token answered.
	stopping := w.next(t, arn, callback.StatusStopping)
	if res, err := w.deliver(stopping.body, 1); err != nil || res.Action != coordinator.ActionDuplicate {
		t.Fatalf("Stopping after the answer: %+v, %v", res, err)
	}
}

// A start message redelivered during a stop, after its first delivery
// handed the work over, cleans up what the step started before it
// answers: the worker may have started it (found by make chaos: the
// redelivery answered at once, cleaning nothing, and the Stopping message
// then found the token answered).
func TestRedeliveredStartMessageDuringAStopCleansUpFirst(t *testing.T) {
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{
		callback.ArgWorkerLambda: "worker", callback.ArgSFNExecutionARN: sfnARN,
	}))))
	start, stopping := w.registeredThenStopping(t, arn)
	if n := len(w.lambda.Calls()); n != 1 {
		t.Fatalf("%d worker invocations, want the first delivery's one", n)
	}

	res, err := w.redeliver("m-start", start.body, 2)
	if err != nil || res.Action != coordinator.ActionAnswered || res.Outcome != pipeline.OutcomeFailure {
		t.Fatalf("redelivered start during the stop: %+v, %v; want answered with a failure", res, err)
	}
	if cleaner.count() != 1 || cleaner.calls[0].ID != sfnARN {
		t.Fatalf("cleaner calls %+v, want the step's execution %s cleaned before the answer", cleaner.calls, sfnARN)
	}
	if n := len(w.lambda.Calls()); n != 1 {
		t.Fatalf("%d worker invocations, want no new hand-off during a stop", n)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	if res, err := w.deliver(stopping.body, 1); err != nil || res.Action != coordinator.ActionDuplicate {
		t.Fatalf("Stopping after the answer: %+v, %v", res, err)
	}
	if failures, success := w.answers.answers(); len(failures) != 1 || len(success) != 0 {
		t.Fatalf("%d failures and %d successes sent, want one answer", len(failures), len(success))
	}
	if cleaner.count() != 1 {
		t.Fatalf("%d cleaner calls, want one", cleaner.count())
	}
}

// TestDuplicateStoppingDeliveriesAnswerOnce delivers the same Stopping
// message five times at once: one delivery cleans and answers; the others
// find the token claimed (and come back to find it answered) or answered.
func TestDuplicateStoppingDeliveriesAnswerOnce(t *testing.T) {
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.deliver(start.body, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Reason: "cost"}); err != nil {
		t.Fatal(err)
	}
	stopping := w.next(t, arn, callback.StatusStopping)

	const copies = 5
	results := make([]coordinator.CallbackResult, copies)
	errs := make([]error, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = w.deliver(stopping.body, 1)
		}()
	}
	wg.Wait()
	answered := 0
	for i := range copies {
		var retry *coordinator.RetryError
		switch {
		case errs[i] == nil && results[i].Action == coordinator.ActionAnswered:
			answered++
		case errs[i] == nil && results[i].Action == coordinator.ActionDuplicate:
		case errors.As(errs[i], &retry):
			// Claimed by the delivery that answers: it comes back as a duplicate.
			if res, err := w.deliver(stopping.body, 2); err != nil || res.Action != coordinator.ActionDuplicate {
				t.Fatalf("retry of a claimed delivery: %+v, %v", res, err)
			}
		default:
			t.Fatalf("delivery %d: %+v, %v", i, results[i], errs[i])
		}
	}
	failures, success := w.answers.answers()
	if answered != 1 || len(failures) != 1 || len(success) != 0 || cleaner.count() != 1 {
		t.Fatalf("answered %d times, %d failures and %d successes sent, %d cleanups; want exactly one of each", answered, len(failures), len(success), cleaner.count())
	}
	if got, want := aws.ToString(failures[0].ClientRequestToken), pipeline.RequestToken("step-failure", stopping.m.Token, "cost"); got != want {
		t.Fatalf("ClientRequestToken %s, want the deterministic %s", got, want)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Tokens) != 1 || view.Tokens[0].State != pipeline.TokenAnswered || view.Tokens[0].Reason != "cost" {
		t.Fatalf("tokens %+v", view.Tokens)
	}
	if len(view.Cleanups) != 1 || view.Cleanups[0].Status != pipeline.CleanupSucceeded || view.Cleanups[0].Attempts != 1 {
		t.Fatalf("cleanups %+v", view.Cleanups)
	}
}

func TestCleanerThatFailsTwiceIsRetriedThenAnswered(t *testing.T) {
	cleaner := &fakeCleaner{fn: func(n int, r pipeline.Resource) error {
		if n <= 2 {
			return errors.New("throttled by Step Functions")
		}
		return nil
	}}
	w := newCBWorld(t, cleaner)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	_, stopping := w.registeredThenStopping(t, arn)

	for attempt := 1; attempt <= 2; attempt++ {
		_, err := w.redeliver("m-stop", stopping.body, attempt)
		var retry *coordinator.RetryError
		if !errors.As(err, &retry) || retry.After != time.Duration(1<<attempt)*time.Second {
			t.Fatalf("attempt %d: %v, want a retry after %ds", attempt, err, 1<<attempt)
		}
	}
	res, err := w.redeliver("m-stop", stopping.body, 3)
	if err != nil || res.Action != coordinator.ActionAnswered || res.Flagged {
		t.Fatalf("third attempt: %+v, %v; want answered, not flagged", res, err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	cl := view.Cleanups
	if len(cl) != 1 || cl[0].Attempts != 3 || cl[0].Status != pipeline.CleanupSucceeded || len(cl[0].History) != 3 ||
		cl[0].History[0].Status != pipeline.CleanupFailed || cl[0].History[0].Error == "" {
		t.Fatalf("cleanup record %+v", cl)
	}
	if failures, _ := w.answers.answers(); len(failures) != 1 || strings.Contains(aws.ToString(failures[0].FailureReason), "cleanup failed") {
		t.Fatalf("answers %+v", failures)
	}
}

func TestPermanentlyFailingCleanerStillAnswersAndFlags(t *testing.T) {
	cleaner := &fakeCleaner{fn: func(int, pipeline.Resource) error {
		return errors.New("AccessDenied: not authorized to perform states:StopExecution")
	}}
	w := newCBWorld(t, cleaner)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.deliver(start.body, 1); err != nil {
		t.Fatal(err)
	}
	reason := strings.Repeat("a long reason ", 30)
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Reason: reason[:250]}); err != nil {
		t.Fatal(err)
	}
	stopping := w.next(t, arn, callback.StatusStopping)
	for attempt := 1; attempt < coordinator.DefaultCleanupMaxAttempts; attempt++ {
		var retry *coordinator.RetryError
		if _, err := w.redeliver("m-stop", stopping.body, attempt); !errors.As(err, &retry) {
			t.Fatalf("attempt %d: %v, want a retry", attempt, err)
		}
	}
	res, err := w.redeliver("m-stop", stopping.body, coordinator.DefaultCleanupMaxAttempts)
	if err != nil || res.Action != coordinator.ActionAnswered || !res.Flagged {
		t.Fatalf("last attempt: %+v, %v; want answered and flagged", res, err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	failures, _ := w.answers.answers()
	got := aws.ToString(failures[0].FailureReason)
	if len(failures) != 1 || len([]rune(got)) > pipeline.MaxReasonLength || !strings.HasPrefix(got, "a long reason") ||
		!strings.Contains(got, "; cleanup failed: sfn-execution "+sfnARN) {
		t.Fatalf("failure reason %q (%d runes)", got, len([]rune(got)))
	}
	tok, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), start.m.Token)
	if err != nil || !tok.Attention || !strings.Contains(tok.AttentionReason, "AccessDenied") || tok.State != pipeline.TokenAnswered {
		t.Fatalf("token %+v, %v; want answered and flagged", tok, err)
	}
	// A late duplicate is a no-op.
	if res, err := w.deliver(stopping.body, 1); err != nil || res.Action != coordinator.ActionDuplicate {
		t.Fatalf("duplicate after the answer: %+v, %v", res, err)
	}
}

func TestStoppingForATokenNeverRegisteredIsCleanedFromItsArguments(t *testing.T) {
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{
		callback.ArgGlueJobName: "etl", callback.ArgGlueJobRunID: "jr_1"}))))
	w.next(t, arn, callback.StatusExecuting) // lost: never delivered
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	stopping := w.next(t, arn, callback.StatusStopping)
	res, err := w.deliver(stopping.body, 1)
	if err != nil || res.Action != coordinator.ActionAnswered || res.StepName != "Etl" {
		t.Fatalf("%+v, %v; want answered for step Etl", res, err)
	}
	if len(cleaner.calls) != 1 || cleaner.calls[0].Kind != pipeline.ResourceGlueJobRun || cleaner.calls[0].Params[pipeline.ParamJobName] != "etl" ||
		cleaner.ctxs[0].StepName != "Etl" || cleaner.ctxs[0].Status != callback.StatusStopping {
		t.Fatalf("cleaned %+v with %+v", cleaner.calls, cleaner.ctxs)
	}
	if failures, _ := w.answers.answers(); len(failures) != 1 || aws.ToString(failures[0].FailureReason) != coordinator.DefaultReason {
		t.Fatalf("answers %+v", failures)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
}

// TestNewStoppingTokenIsCorrelatedByExecution runs with the emulator
// issuing a new token for the Stopping message: the consumer finds the
// step's record, cleans its plan (including what a worker registered) and
// answers with the new token.
func TestNewStoppingTokenIsCorrelatedByExecution(t *testing.T) {
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner, func(o *emulator.Options) { o.Switches.NewStoppingToken = true })
	arn := w.Start(w.CreatePipeline(definition(
		callbackStepWith("Etl", w.CallbackQueue, map[string]any{"job": "etl"}),
		callbackStepWith("Report", w.CallbackQueue, map[string]any{"job": "report"}),
	)))
	var starts []message
	for range 2 {
		starts = append(starts, w.next(t, arn, callback.StatusExecuting))
	}
	for _, s := range starts {
		if _, err := w.deliver(s.body, 1); err != nil {
			t.Fatal(err)
		}
		// Each step's worker registers what it started.
		res := pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "job-" + s.m.Arguments["job"].(string)}
		if _, err := w.Ledger.AppendResources(w.Ctx, mustARN(t, arn), s.m.Token, []pipeline.Resource{res}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		stopping := w.next(t, arn, callback.StatusStopping)
		if stopping.m.Token == starts[0].m.Token || stopping.m.Token == starts[1].m.Token {
			t.Fatal("the emulator reused the start token; the switch is off")
		}
		res, err := w.deliver(stopping.body, 1)
		if err != nil || res.Action != coordinator.ActionAnswered {
			t.Fatalf("%+v, %v", res, err)
		}
		if want := "job-" + stopping.m.Arguments["job"].(string); cleaner.calls[len(cleaner.calls)-1].ID != want {
			t.Fatalf("cleaned %+v, want %s", cleaner.calls, want)
		}
		if res, err := w.deliver(stopping.body, 1); err != nil || res.Action != coordinator.ActionDuplicate {
			t.Fatalf("duplicate: %+v, %v", res, err)
		}
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	failures, _ := w.answers.answers()
	if len(failures) != 2 || cleaner.count() != 2 {
		t.Fatalf("%d answers and %d cleanups, want 2 each", len(failures), cleaner.count())
	}
	view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range view.Tokens {
		if tok.State != pipeline.TokenAnswered {
			t.Fatalf("token %s of %s is %s, want answered", tok.Token, tok.StepName, tok.State)
		}
	}
}

func TestOutcomePolicyAnswersWithSuccess(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	w.outcome = func(string) (bool, map[string]string) { return true, map[string]string{"out": "stopped-early"} }
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{}))))
	w.next(t, arn, callback.StatusExecuting)
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	res, err := w.deliver(w.next(t, arn, callback.StatusStopping).body, 1)
	if err != nil || res.Outcome != pipeline.OutcomeSuccess {
		t.Fatalf("%+v, %v", res, err)
	}
	_, success := w.answers.answers()
	if len(success) != 1 || len(success[0].OutputParameters) != 1 || aws.ToString(success[0].OutputParameters[0].Value) != "stopped-early" ||
		aws.ToString(success[0].ClientRequestToken) != pipeline.RequestToken("step-success", res.Token, fmt.Sprint(success[0].OutputParameters)) {
		t.Fatalf("success answers %+v", success)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
}

// TestAnswerSageMakerRefusesCountsAsAnswered answers the token behind the
// consumer's back: SageMaker's ConflictException means done, not retry.
func TestAnswerSageMakerRefusesCountsAsAnswered(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SageMaker.SendPipelineExecutionStepFailure(w.Ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
		CallbackToken: aws.String(start.m.Token), ClientRequestToken: aws.String(strings.Repeat("x", 40))}); err != nil {
		t.Fatal(err)
	}
	res, err := w.deliver(w.next(t, arn, callback.StatusStopping).body, 1)
	if err != nil || res.Action != coordinator.ActionAnswered {
		t.Fatalf("%+v, %v; want answered", res, err)
	}
	tok, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), start.m.Token)
	if err != nil || tok.State != pipeline.TokenAnswered || !strings.Contains(tok.Reason, "needs no answer") {
		t.Fatalf("token %+v, %v", tok, err)
	}
}

func TestMalformedAndForeignMessagesAreRecordedRejections(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	tests := []struct{ name, body, reason string }{
		{"not JSON", "hello", "not a JSON object"},
		{"bad token", `{"token":"x","pipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc"}`, "exactly 10 characters"},
		{"account not allowed", `{"token":"AAAAAAAAAA","pipelineExecutionArn":"arn:aws:sagemaker:us-east-1:999999999999:pipeline/p/execution/abc","status":"Stopping"}`, "account 999999999999"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.cb.HandleCallback(w.Ctx, coordinator.Delivery{MessageID: "rej-" + tt.name, Body: tt.body, ReceiveCount: 2, Source: "arn:aws:sqs:us-east-1:123456789012:callbacks"})
			var rej *coordinator.RejectedError
			if !errors.As(err, &rej) || !strings.Contains(rej.Reason, tt.reason) {
				t.Fatalf("err = %v, want a rejection saying %q", err, tt.reason)
			}
			recorded, err := w.Ledger.ListRejections(w.Ctx, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, r := range recorded {
				if r.MessageID == "rej-"+tt.name && r.Reason == rej.Reason && r.Excerpt == tt.body && r.ReceiveCount == 2 {
					found = true
				}
			}
			if !found {
				t.Fatalf("rejection not recorded: %+v", recorded)
			}
		})
	}
}

// A start message whose hand-off keeps failing fails its step with why on
// its last receive, instead of leaving the step Executing with no worker
// once the message is in the DLQ.
func TestStartMessageOutOfReceivesFailsItsStep(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	gone := w.Queue("work") + "-never-created"
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgWorkerQueue: gone}))))
	start := w.next(t, arn, callback.StatusExecuting)
	for attempt := 1; attempt < coordinator.DefaultCleanupMaxAttempts; attempt++ {
		if res, err := w.redeliver("m-start", start.body, attempt); err == nil {
			t.Fatalf("receive %d: %+v, want the failed hand-off returned for a retry", attempt, res)
		}
		if failures, success := w.answers.answers(); len(failures)+len(success) != 0 {
			t.Fatalf("receive %d answered the token before the receives ran out", attempt)
		}
	}
	res, err := w.redeliver("m-start", start.body, coordinator.DefaultCleanupMaxAttempts)
	if err != nil || res.Action != coordinator.ActionAnswered || res.Outcome != pipeline.OutcomeFailure {
		t.Fatalf("last receive: %+v, %v; want the token answered with a failure", res, err)
	}
	w.WaitStep(arn, "Etl", smtypes.StepStatusFailed)
	failures, _ := w.answers.answers()
	if len(failures) != 1 || !strings.Contains(aws.ToString(failures[0].FailureReason), "could not hand the step to its worker") {
		t.Fatalf("answers %+v, want one failure saying the hand-off failed", failures)
	}
	if tok, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), start.m.Token); err != nil || tok.State != pipeline.TokenAnswered {
		t.Fatalf("token %+v, %v; want answered", tok, err)
	}
}
