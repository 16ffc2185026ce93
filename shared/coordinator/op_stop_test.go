package coordinator_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestGracefulStopShowsTheCallbackAsBlocking(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(trainingStep("Train"), callbackStep("Wait", w.CallbackQueue))))
	wait := w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)

	res, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Reason: "cost", Key: "k1", RequestedBy: "arn:aws:iam::123456789012:user/ops"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Created || res.Stop.Phase != pipeline.StopIssued || res.Status != pipeline.ExecutionExecuting || res.Stop.RequestedBy != "arn:aws:iam::123456789012:user/ops" {
		t.Fatalf("stop result %+v", res)
	}
	if got := w.Status(arn); got != smtypes.PipelineExecutionStatusStopping {
		t.Fatalf("emulator status %s, want Stopping: the callback step blocks", got)
	}

	v, err := w.coord.ViewExecution(w.Ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != pipeline.ExecutionStopping || v.Terminal {
		t.Fatalf("view status %s terminal=%v, want Stopping", v.Status, v.Terminal)
	}
	if len(v.Blocking.OpenCallbacks) != 1 || v.Blocking.OpenCallbacks[0].StepName != "Wait" || v.Blocking.OpenCallbacks[0].TokenRef != pipeline.TokenRef(*wait.Metadata.Callback.CallbackToken) {
		t.Fatalf("open callbacks %+v, want step Wait with token %s", v.Blocking.OpenCallbacks, *wait.Metadata.Callback.CallbackToken)
	}
	if v.Blocking.OpenCallbacks[0].Since == nil {
		t.Fatal("open callback has no since")
	}
	if len(v.Blocking.RunningLambdas) != 0 {
		t.Fatalf("running lambdas %+v, want none", v.Blocking.RunningLambdas)
	}
	kinds := map[string]pipeline.StepKind{}
	for _, s := range v.Steps {
		kinds[s.Name] = s.Kind
	}
	if kinds["Train"] != pipeline.KindTraining || kinds["Wait"] != pipeline.KindCallback {
		t.Fatalf("step kinds %v", kinds)
	}
	if len(v.Timeline) < 2 || v.Timeline[0].Event != "stop requested" || v.Timeline[1].Event != "stop issued" {
		t.Fatalf("timeline %+v", v.Timeline)
	}
}

func TestRepeatedStopCallsSageMakerOnce(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)

	first, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Key: "retry-me"})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Key: "retry-me"})
		if err != nil {
			t.Fatal(err)
		}
		if again.Stop.ID != first.Stop.ID || again.Created {
			t.Fatalf("repeat gave %+v, want the first request %s", again.Stop, first.Stop.ID)
		}
	}
	if n := w.sm.stops.Load(); n != 1 {
		t.Fatalf("StopPipelineExecution called %d times, want 1", n)
	}
	view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Stops) != 1 {
		t.Fatalf("%d stop requests recorded, want 1", len(view.Stops))
	}
}

func TestForceStopAnswersTheTokenAndReachesStopped(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	wait := w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	token := *wait.Metadata.Callback.CallbackToken

	res, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Mode: "force", Reason: "budget exceeded"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Answered) != 1 || res.Answered[0] != token {
		t.Fatalf("answered %v, want [%s]", res.Answered, token)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)

	tok, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), token)
	if err != nil {
		t.Fatal(err)
	}
	if tok.State != pipeline.TokenAnswered || tok.Outcome != pipeline.OutcomeFailure || !strings.HasPrefix(tok.AnsweredBy, "force-stop ") || tok.StepName != "Wait" {
		t.Fatalf("token record %+v", tok)
	}
	v, err := w.coord.ViewExecution(w.Ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	var cb *coordinator.CallbackView
	for _, s := range v.Steps {
		if s.Name == "Wait" {
			cb = s.Callback
		}
	}
	if cb == nil || cb.State != pipeline.TokenAnswered || len(cb.Cleanups) != 1 || cb.Cleanups[0].Status != pipeline.CleanupSkipped {
		t.Fatalf("callback view %+v, want answered with a skipped cleanup", cb)
	}
	if !v.Terminal || v.Status != pipeline.ExecutionStopped || len(v.Blocking.OpenCallbacks) != 0 {
		t.Fatalf("view %s terminal=%v blocking=%+v", v.Status, v.Terminal, v.Blocking)
	}
}

func TestStopOfARunningLambdaStepReportsItsEndBy(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(lambdaStep("Fn", 300))))
	fn := w.WaitStep(arn, "Fn", smtypes.StepStatusExecuting)
	w.Eventually("the function to be called", func() bool { return w.Lambda.Calls() == 1 })

	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	v, err := w.coord.ViewExecution(w.Ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Blocking.RunningLambdas) != 1 {
		t.Fatalf("running lambdas %+v, want Fn", v.Blocking.RunningLambdas)
	}
	rl := v.Blocking.RunningLambdas[0]
	if want := fn.StartTime.Add(300 * time.Second); rl.EndsBy == nil || !rl.EndsBy.Equal(want) || rl.FunctionARN == "" {
		t.Fatalf("running lambda %+v, want endsBy %v (start + the definition's 300 s)", rl, want)
	}
	w.Lambda.Release()
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
}

// TestLambdaEndByComesFromTheDefinitionTheExecutionRan (issue 15): the
// pipeline updated after the execution started has another timeout; the
// view's end-by is the one the execution runs with.
func TestLambdaEndByComesFromTheDefinitionTheExecutionRan(t *testing.T) {
	w := newWorld(t)
	pipe := w.CreatePipeline(definition(lambdaStep("Fn", 300)))
	arn := w.Start(pipe)
	fn := w.WaitStep(arn, "Fn", smtypes.StepStatusExecuting)
	if _, err := w.SageMaker.UpdatePipeline(w.Ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe), PipelineDefinition: aws.String(definition(lambdaStep("Fn", 60)))}); err != nil {
		t.Fatal(err)
	}
	v, err := w.coord.ViewExecution(w.Ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Blocking.RunningLambdas) != 1 {
		t.Fatalf("running lambdas %+v, want Fn", v.Blocking.RunningLambdas)
	}
	if want := fn.StartTime.Add(300 * time.Second); v.Blocking.RunningLambdas[0].EndsBy == nil || !v.Blocking.RunningLambdas[0].EndsBy.Equal(want) {
		t.Fatalf("endsBy %v, want %v: the execution's own definition (300 s), not the updated pipeline's (60 s)", v.Blocking.RunningLambdas[0].EndsBy, want)
	}
	w.Lambda.Release()
}

func TestStopRejections(t *testing.T) {
	w := newWorld(t)
	done := w.Start(w.CreatePipeline(definition(`{"Name":"Boom","Type":"Fail","Arguments":{"ErrorMessage":"no"}}`)))
	w.WaitStatus(done, smtypes.PipelineExecutionStatusFailed)
	running := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))

	tests := []struct {
		name     string
		in       coordinator.StopInput
		wantCode string
		wantMsg  string
	}{
		{"terminal execution", coordinator.StopInput{ExecutionARN: done}, pipeline.EConflict, "already ended: Failed"},
		{"unknown execution", coordinator.StopInput{ExecutionARN: strings.Replace(done, done[len(done)-12:], "zzzzzzzzzzzz", 1)}, pipeline.ENotFound, "does not exist"},
		{"bad arn", coordinator.StopInput{ExecutionARN: "arn:aws:s3:::bucket"}, pipeline.EInvalid, "not a pipeline execution ARN"},
		{"other account", coordinator.StopInput{ExecutionARN: strings.Replace(running, account, "999999999999", 1)}, pipeline.EUnauthorized, "account 999999999999"},
		{"bad mode", coordinator.StopInput{ExecutionARN: running, Mode: "now"}, pipeline.EInvalid, "mode"},
		{"reason too long", coordinator.StopInput{ExecutionARN: running, Reason: strings.Repeat("x", 257)}, pipeline.EInvalid, "reason"},
		{"key not printable", coordinator.StopInput{ExecutionARN: running, Key: "a\nb"}, pipeline.EInvalid, "idempotency key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := w.coord.Stop(w.Ctx, tt.in)
			if pipeline.Code(err) != tt.wantCode || !strings.Contains(pipeline.Message(err), tt.wantMsg) {
				t.Fatalf("Stop(%+v) = %v (code %q), want %q containing %q", tt.in, err, pipeline.Code(err), tt.wantCode, tt.wantMsg)
			}
		})
	}
	if n := w.sm.stops.Load(); n != 0 {
		t.Fatalf("rejected stops called StopPipelineExecution %d times", n)
	}

	restricted := coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: w.sm, Access: pipeline.AllowList{Accounts: []string{account}, Pipelines: []string{"prod-*"}}})
	if _, err := restricted.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: running}); pipeline.Code(err) != pipeline.EUnauthorized {
		t.Fatalf("pipeline outside the allow-list: err = %v, want unauthorized", err)
	}
}

func TestStopOfAnExecutionAlreadyStopping(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	// Someone else stops it (the console, another tool).
	other := coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: w.SageMaker, Access: pipeline.AllowList{Accounts: []string{account}}})
	first, err := other.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Key: "first"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Key: "second"})
	if err != nil {
		t.Fatal(err)
	}
	// The request joins the stop under way under its own key, so a retry
	// with that key finds it; SageMaker is not asked again.
	if !res.AlreadyStopping || res.Stop.Key != "second" || res.Stop.Phase != pipeline.StopIssued || first.Stop.ID == res.Stop.ID {
		t.Fatalf("got %+v, want a record of key second joining %s", res, first.Stop.ID)
	}
	again, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Key: "second"})
	if err != nil || again.Stop.ID != res.Stop.ID || again.Created {
		t.Fatalf("retry with the key: %+v, %v", again, err)
	}
	if n := w.sm.stops.Load(); n != 0 {
		t.Fatalf("StopPipelineExecution called %d times for an execution already stopping", n)
	}
}

func TestThrottlingIsReportedAsThrottled(t *testing.T) {
	w := newWorld(t, func(o *emulator.Options) {
		o.Faults = map[string]emulator.Fault{"StopPipelineExecution": {ThrottleRate: 1}}
	})
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	_, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn})
	if pipeline.Code(err) != pipeline.EThrottled {
		t.Fatalf("err = %v (code %q), want throttled after the SDK's retries", err, pipeline.Code(err))
	}
}
