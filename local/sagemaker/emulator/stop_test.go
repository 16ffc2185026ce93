package emulator_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// stillFor checks that cond keeps holding for d: the way to assert that a
// stop stays blocked (an absence can only be observed over a window).
func stillFor(t *testing.T, d time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok, what := cond(); !ok {
			t.Fatalf("condition broke within %s: %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStopCallbackStepBlocksUntilAnswered(t *testing.T) {
	t.Parallel()
	answers := []struct {
		name string
		send func(e *env, token string) error
	}{
		{"failure", func(e *env, token string) error {
			_, err := e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
				CallbackToken: aws.String(token), FailureReason: aws.String("stopped by test")})
			return err
		}},
		{"success", func(e *env, token string) error {
			_, err := e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
				CallbackToken: aws.String(token)})
			return err
		}},
	}
	for _, tc := range answers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Callback("Wait", e.queueURL), emulatortest.Job("After", "Processing").Duration(1).After("Wait")).JSON())
			arn := e.start(pipe)
			start := e.callbackMessages(1)[0]
			e.waitStep(arn, "Wait", smtypes.StepStatusExecuting)

			e.stop(arn)
			if got := e.status(arn); got != smtypes.PipelineExecutionStatusStopping {
				t.Fatalf("status right after stop = %s, want Stopping", got)
			}
			stopping := e.callbackMessages(1)[0]
			if len(stopping) != 4 || stopping["status"] != "Stopping" || stopping["token"] != start["token"] ||
				stopping["pipelineExecutionArn"] != arn || stopping["arguments"] == nil {
				t.Fatalf("stopping message %v, want the start message's keys with status Stopping and token %v", stopping, start["token"])
			}
			e.waitStep(arn, "Wait", smtypes.StepStatusStopping)
			stillFor(t, 150*time.Millisecond, func() (bool, string) {
				got := e.status(arn)
				return got == smtypes.PipelineExecutionStatusStopping, "status " + string(got)
			})

			if err := tc.send(e, start["token"].(string)); err != nil {
				t.Fatalf("answer: %v", err)
			}
			e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
			steps := e.steps(arn)
			if steps["Wait"].StepStatus != smtypes.StepStatusStopped {
				t.Errorf("Wait step %s, want Stopped", steps["Wait"].StepStatus)
			}
			if _, ok := steps["After"]; ok {
				t.Errorf("step After started after the stop")
			}
			tr := e.doneTransitions(arn)
			if want := []string{"->Starting", "Starting->Executing", "Executing->Stopping", "Stopping->Stopped"}; !equal(tr["Wait"], want) {
				t.Errorf("Wait transitions %v, want %v", tr["Wait"], want)
			}
			if want := []string{"->Executing", "Executing->Stopping", "Stopping->Stopped"}; !equal(tr["execution"], want) {
				t.Errorf("execution transitions %v, want %v", tr["execution"], want)
			}
		})
	}
}

func TestStopJobStepsAndUnstartedSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("Train", "Training").Duration(longJob).StopDelay(20000), emulatortest.Job("Transform", "Transform").Duration(longJob), emulatortest.Job("Evaluate", "Processing").Duration(1).After("Train")).JSON())
	arn := e.start(pipe)
	e.waitStep(arn, "Train", smtypes.StepStatusExecuting)
	e.waitStep(arn, "Transform", smtypes.StepStatusExecuting)
	e.stop(arn)
	if got := e.status(arn); got != smtypes.PipelineExecutionStatusStopping {
		t.Fatalf("status right after stop = %s, want Stopping", got)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	steps := e.steps(arn)
	for _, name := range []string{"Train", "Transform"} {
		if steps[name].StepStatus != smtypes.StepStatusStopped {
			t.Errorf("%s: %s, want Stopped", name, steps[name].StepStatus)
		}
	}
	if steps["Train"].Metadata.TrainingJob == nil || steps["Transform"].Metadata.TransformJob == nil {
		t.Errorf("job metadata missing: %+v %+v", steps["Train"].Metadata, steps["Transform"].Metadata)
	}
	if _, ok := steps["Evaluate"]; ok {
		t.Error("step Evaluate started after the stop")
	}
	tr := e.doneTransitions(arn)
	if want := []string{"->Starting", "Starting->Executing", "Executing->Stopping", "Stopping->Stopped"}; !equal(tr["Train"], want) {
		t.Errorf("Train transitions %v, want %v", tr["Train"], want)
	}
}

func TestStopPipelineExecutionErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Callback("Wait", e.queueURL)).JSON())
	running := e.start(pipe)
	done := e.start(e.createPipeline(emulatortest.Pipeline(emulatortest.Job("Quick", "Processing").Duration(1)).JSON()))
	e.waitStatus(done, smtypes.PipelineExecutionStatusSucceeded)
	e.callbackMessages(1)
	e.stop(running)
	unknown := running[:len(running)-12] + "zzzzzzzzzzzz"

	cases := []struct {
		name     string
		arn      string
		token    *string
		wantCode string
	}{
		{"second stop while Stopping succeeds", running, nil, ""},
		{"stop of a terminal execution", done, nil, "ConflictException"},
		{"unknown execution", unknown, nil, "ResourceNotFound"},
		{"not an execution ARN", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/x", nil, "ValidationException"},
		{"short ClientRequestToken", running, aws.String("short"), "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.sm.StopPipelineExecution(e.ctx, &sagemaker.StopPipelineExecutionInput{
				PipelineExecutionArn: aws.String(tc.arn), ClientRequestToken: tc.token})
			checkCode(t, err, tc.wantCode)
			if err == nil && *out.PipelineExecutionArn != tc.arn {
				t.Errorf("returned %s, want %s", *out.PipelineExecutionArn, tc.arn)
			}
		})
	}
	// The typed error is what callers match on.
	_, err := e.sm.StopPipelineExecution(e.ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(unknown)})
	var nf *smtypes.ResourceNotFound
	if !errors.As(err, &nf) {
		t.Errorf("unknown execution: %T %v, want *types.ResourceNotFound", err, err)
	}
}

// checkCode asserts the API error code; "" means success.
func checkCode(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("got %v, want success", err)
		}
		return
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, want)
	}
	if ae.ErrorCode() != want {
		t.Fatalf("got code %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), want)
	}
	if ae.ErrorMessage() == "" {
		t.Errorf("error %s has no message", want)
	}
}

func equal[T comparable](a, b []T) bool { return slices.Equal(a, b) }
