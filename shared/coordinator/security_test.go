package coordinator_test

// Issue 12: every caller acts only within its rights. Against DynamoDB
// Local and the emulator.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/metrics/metricstest"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Cases 1 and 2: a registration is bound to a token the execution's step
// really holds, and keeps who made it.
func TestRegistrationIsBoundToTheStep(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	token := *w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting).Metadata.Callback.CallbackToken
	other := w.Start(w.CreatePipeline(definition(callbackStep("Other", w.CallbackQueue))))
	otherToken := *w.WaitStep(other, "Other", smtypes.StepStatusExecuting).Metadata.Callback.CallbackToken
	res := []pipeline.Resource{{Kind: pipeline.ResourceSFNExecution, ID: sfnARN, RegisteredBy: "forged in the body"}}

	for name, tok := range map[string]string{"a token no execution has": "Zz00Zz00Zz", "another execution's token": otherToken} {
		_, err := w.coord.RegisterResources(w.Ctx, coordinator.ResourcesInput{Token: tok, ExecutionARN: arn, Resources: res, RegisteredBy: "arn:aws:iam::123456789012:user/mallory"})
		if pipeline.Code(err) != pipeline.ENotFound {
			t.Fatalf("%s: %v, want not_found", name, err)
		}
		if _, err := w.Ledger.GetToken(w.Ctx, mustARN(t, arn), tok); !errors.Is(err, pipeline.ErrNotFound) {
			t.Fatalf("%s: a record was made for it (%v)", name, err)
		}
	}

	worker := "arn:aws:sts::123456789012:assumed-role/etl-worker/session"
	rec, err := w.coord.RegisterResources(w.Ctx, coordinator.ResourcesInput{Token: token, ExecutionARN: arn, Resources: res, RegisteredBy: worker})
	if err != nil || len(rec.CleanupPlan) != 1 || rec.CleanupPlan[0].RegisteredBy != worker {
		t.Fatalf("registration for the step's own token: %+v, %v; want it kept with the caller", rec.CleanupPlan, err)
	}
	v, err := w.coord.ViewExecution(w.Ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(v)
	if strings.Contains(string(raw), token) || !strings.Contains(string(raw), pipeline.TokenRef(token)) || !strings.Contains(string(raw), worker) {
		t.Fatalf("view %s: want the token's reference, not the token, and who registered the resource", raw)
	}
}

// Case 4: a forged Stopping message carrying the token of a pipeline
// stopcoord may not touch, next to an allowed execution with no open
// callback, answers nothing.
func TestForgedStoppingMessageAnswersNoForeignToken(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	sends := newFaultySends(w.SageMaker, nil)
	w.deps.Access = pipeline.AllowList{Accounts: []string{account}, Pipelines: []string{"allowed-*"}}
	w.useSageMaker(sends)
	allowed := w.Start(createNamed(t, w.world, "allowed-train", definition(trainingStep("Train"))))
	foreign := w.Start(createNamed(t, w.world, "payments", definition(callbackStep("Charge", w.CallbackQueue))))
	foreignToken := *w.WaitStep(foreign, "Charge", smtypes.StepStatusExecuting).Metadata.Callback.CallbackToken

	forged := fmt.Sprintf(`{"token":%q,"pipelineExecutionArn":%q,"arguments":{},"status":"Stopping"}`, foreignToken, allowed)
	_, err := w.deliver(forged, 1)
	var rejected *coordinator.RejectedError
	if !errors.As(err, &rejected) {
		t.Fatalf("forged Stopping message: %v, want it rejected", err)
	}
	if n := sends.calls.Load(); n != 0 {
		t.Fatalf("%d answers sent for a forged message", n)
	}
	if got := w.Steps(foreign)["Charge"].StepStatus; got != smtypes.StepStatusExecuting {
		t.Fatalf("the foreign step is %s, want still Executing", got)
	}
	// A forged start message cannot plant the foreign token under the
	// allowed execution either.
	start := fmt.Sprintf(`{"token":%q,"pipelineExecutionArn":%q,"arguments":{}}`, foreignToken, allowed)
	for attempt := 1; attempt <= coordinator.DefaultCleanupMaxAttempts; attempt++ {
		_, err = w.deliver(start, attempt)
	}
	if !errors.As(err, &rejected) {
		t.Fatalf("forged start message, last attempt: %v, want it rejected", err)
	}
	if _, err := w.Ledger.GetToken(w.Ctx, mustARN(t, allowed), foreignToken); !errors.Is(err, pipeline.ErrNotFound) {
		t.Fatalf("the foreign token was recorded under the allowed execution (%v)", err)
	}
}

// Case 7: tokens never reach the logs.
func TestTokensNeverReachTheLogs(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	failing := &fakeCleaner{fn: func(int, pipeline.Resource) error { return errors.New("still running") }}
	w := newCBWorld(t, failing)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	start, stopping := w.registeredThenStopping(t, arn)
	for attempt := 1; attempt <= coordinator.DefaultCleanupMaxAttempts; attempt++ {
		_, _ = w.deliver(stopping.body, attempt) // retries, then answers flagged: every log line on the way
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	if logs.Len() == 0 {
		t.Fatal("nothing was logged: the test would prove nothing")
	}
	if strings.Contains(logs.String(), start.m.Token) {
		t.Fatalf("a log line holds the callback token:\n%s", logs.String())
	}
}

// createNamed creates a pipeline with a given name in the emulator.
func createNamed(t *testing.T, w *world, name, def string) string {
	t.Helper()
	if _, err := w.SageMaker.CreatePipeline(w.Ctx, &sagemaker.CreatePipelineInput{
		PipelineName: aws.String(name), PipelineDefinition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/p"),
		ClientRequestToken: aws.String(fmt.Sprintf("create-%s-%032d", name, 0)),
	}); err != nil {
		t.Fatal(err)
	}
	return name
}

// The cleanup scope: a resource or worker outside it is never acted on,
// whoever named it, and the refusal is recorded, not silently skipped.
func TestCleanupScopeIsEnforced(t *testing.T) {
	scope, err := pipeline.ParseCleanupScope(`{"sfn-execution":["arn:aws:states:*:123456789012:execution:etl:*"],"worker-lambda":["etl-worker"]}`, pipeline.ScopeKinds())
	if err != nil {
		t.Fatal(err)
	}
	emf := metricstest.Capture(t)
	cleaner := &fakeCleaner{}
	w := newCBWorld(t, cleaner)
	w.deps.Scope = scope
	w.useSageMaker(w.answers)
	w.coord = coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: w.sm, Access: pipeline.AllowList{Accounts: []string{account}}, Scope: scope})
	prod := "arn:aws:states:us-east-1:123456789012:execution:payments:run-1"

	t.Run("a resource named by the step's arguments", func(t *testing.T) {
		arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: prod}))))
		start := w.next(t, arn, callback.StatusExecuting)
		if _, err := w.deliver(start.body, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
			t.Fatal(err)
		}
		res, err := w.deliver(w.next(t, arn, callback.StatusStopping).body, 1)
		if err != nil || res.Action != coordinator.ActionAnswered || !res.Flagged {
			t.Fatalf("%+v, %v; want answered at once and flagged", res, err)
		}
		if n := cleaner.count(); n != 0 {
			t.Fatalf("the cleaner ran %d times on a resource outside the scope", n)
		}
		view, err := w.Ledger.ReadExecution(w.Ctx, mustARN(t, arn))
		if err != nil {
			t.Fatal(err)
		}
		if len(view.Cleanups) != 1 || view.Cleanups[0].Status != pipeline.CleanupRefused || !strings.Contains(view.Cleanups[0].LastError, "outside the cleanup scope") {
			t.Fatalf("cleanups %+v, want one refused with its reason", view.Cleanups)
		}
		if n := emf.Sum(metrics.Cleanups, metrics.DimKind, pipeline.ResourceSFNExecution, metrics.DimResult, metrics.CleanupRefused); n != 1 {
			t.Fatalf("%v refused cleanups in the metrics, want 1", n)
		}
		w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	})
	t.Run("a worker named by the step's arguments", func(t *testing.T) {
		arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgWorkerLambda: "prod-payments-fn"}))))
		res, err := w.deliver(w.next(t, arn, callback.StatusExecuting).body, 1)
		if err != nil || res.Action != coordinator.ActionAnswered || res.Outcome != pipeline.OutcomeFailure {
			t.Fatalf("%+v, %v; want the step failed at once", res, err)
		}
		if n := len(w.lambda.Calls()); n != 0 {
			t.Fatalf("%d invocations of a worker outside the scope", n)
		}
		w.WaitStatus(arn, smtypes.PipelineExecutionStatusFailed)
	})
	t.Run("a resource a worker registers", func(t *testing.T) {
		arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
		token := *w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting).Metadata.Callback.CallbackToken
		_, err := w.coord.RegisterResources(w.Ctx, coordinator.ResourcesInput{Token: token, ExecutionARN: arn, RegisteredBy: "worker",
			Resources: []pipeline.Resource{{Kind: pipeline.ResourceSFNExecution, ID: prod}}})
		if pipeline.Code(err) != pipeline.EUnauthorized {
			t.Fatalf("registration outside the scope: %v, want unauthorized", err)
		}
	})
}
