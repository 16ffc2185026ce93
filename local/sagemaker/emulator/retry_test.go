package emulator_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// retryDef is a job, then a callback step a test fails or stops, then a job
// that never starts in the first attempt.
func retryDef(queueURL string) string {
	return emulatortest.Pipeline(
		emulatortest.Job("Prep", "Processing").Duration(1),
		emulatortest.Callback("Wait", queueURL).After("Prep"),
		emulatortest.Job("Publish", "Processing").Duration(1).After("Wait"),
	).JSON()
}

func (e *env) retry(arn, token string) error {
	in := &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}
	if token != "" {
		in.ClientRequestToken = aws.String(token)
	}
	_, err := e.sm.RetryPipelineExecution(e.ctx, in)
	return err
}

func (e *env) fail(token, reason string) {
	e.t.Helper()
	if _, err := e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
		CallbackToken: aws.String(token), FailureReason: aws.String(reason)}); err != nil {
		e.t.Fatalf("send failure for %s: %v", token, err)
	}
}

func (e *env) succeed(token string) error {
	_, err := e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{CallbackToken: aws.String(token)})
	return err
}

// TestRetryFailedExecution: the failed callback step runs again as attempt
// 2 with a new token, the succeeded job is kept, the job that never started
// runs, and every transition has its event.
func TestRetryFailedExecution(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	arn := e.start(e.createPipeline(retryDef(e.queueURL)))
	first := e.callbackMessages(1)[0]["token"].(string)
	e.fail(first, "worker crashed")
	e.waitStatus(arn, smtypes.PipelineExecutionStatusFailed)
	prep := e.steps(arn)["Prep"]

	if err := e.retry(arn, ""); err != nil {
		t.Fatalf("retry: %v", err)
	}
	if d := e.describe(arn); d.PipelineExecutionStatus != smtypes.PipelineExecutionStatusExecuting || d.FailureReason != nil {
		t.Errorf("after retry: %s %q, want Executing without a failure reason", d.PipelineExecutionStatus, deref(d.FailureReason))
	}
	msg := e.callbackMessages(1)[0]
	second := msg["token"].(string)
	if second == first || msg["status"] != "Executing" || msg["pipelineExecutionArn"] != arn {
		t.Fatalf("retried step's message %v, want a new token for %s", msg, arn)
	}
	// The first attempt's token answers nothing any more.
	checkCode(t, e.succeed(first), "ConflictException")
	wait := e.waitStep(arn, "Wait", smtypes.StepStatusExecuting)
	if aws.ToInt32(wait.AttemptCount) != 2 || aws.ToString(wait.Metadata.Callback.CallbackToken) != second || wait.FailureReason != nil {
		t.Errorf("retried step %+v, want attempt 2 with token %s", wait, second)
	}
	if err := e.succeed(second); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)

	steps := e.steps(arn)
	if len(steps) != 3 || steps["Publish"].StepStatus != smtypes.StepStatusSucceeded {
		t.Errorf("steps %v, want Prep, Wait and Publish, Publish Succeeded", names(steps))
	}
	if p := steps["Prep"]; aws.ToInt32(p.AttemptCount) != 1 || !p.StartTime.Equal(*prep.StartTime) ||
		aws.ToString(p.Metadata.ProcessingJob.Arn) != aws.ToString(prep.Metadata.ProcessingJob.Arn) {
		t.Errorf("Prep after retry %+v, want the first attempt kept", p)
	}
	tr := e.doneTransitions(arn)
	want := map[string][]string{
		"execution": {"->Executing", "Executing->Failed", "Failed->Executing", "Executing->Succeeded"},
		"Prep":      {"->Starting", "Starting->Executing", "Executing->Succeeded"},
		"Wait":      {"->Starting", "Starting->Executing", "Executing->Failed", "Failed->Starting", "Starting->Executing", "Executing->Succeeded"},
		"Publish":   {"->Starting", "Starting->Executing", "Executing->Succeeded"},
	}
	for k, w := range want {
		if !equal(tr[k], w) {
			t.Errorf("transitions of %s = %v, want %v", k, tr[k], w)
		}
	}
}

// TestRetryStoppedExecution: a stopped callback step runs again; a second
// stop sends the Stopping message with the retried attempt's token, or
// with RetryKeepsCallbackToken the first one's.
func TestRetryStoppedExecution(t *testing.T) {
	t.Parallel()
	for _, keep := range []bool{false, true} {
		t.Run(fmt.Sprintf("RetryKeepsCallbackToken=%v", keep), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(o *emulator.Options) { o.Switches.RetryKeepsCallbackToken = keep })
			arn := e.start(e.createPipeline(retryDef(e.queueURL)))
			first := e.callbackMessages(1)[0]["token"].(string)
			e.waitStep(arn, "Wait", smtypes.StepStatusExecuting)
			e.stop(arn)
			if m := e.callbackMessages(1)[0]; m["status"] != "Stopping" || m["token"] != first {
				t.Fatalf("Stopping message %v, want token %s", m, first)
			}
			e.fail(first, "stopped")
			e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)

			if err := e.retry(arn, ""); err != nil {
				t.Fatalf("retry: %v", err)
			}
			second := e.callbackMessages(1)[0]["token"].(string)
			if (second == first) != keep {
				t.Fatalf("retried attempt's token %s, first %s: want same=%v", second, first, keep)
			}
			e.waitStep(arn, "Wait", smtypes.StepStatusExecuting)
			e.stop(arn)
			if m := e.callbackMessages(1)[0]; m["status"] != "Stopping" || m["token"] != second {
				t.Fatalf("second Stopping message %v, want the retried attempt's token %s", m, second)
			}
			e.fail(second, "stopped again")
			e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
			if _, ok := e.steps(arn)["Publish"]; ok {
				t.Error("Publish started although both attempts were stopped")
			}
			tr := e.doneTransitions(arn)
			want := []string{"->Executing", "Executing->Stopping", "Stopping->Stopped", "Stopped->Executing", "Executing->Stopping", "Stopping->Stopped"}
			if !equal(tr["execution"], want) {
				t.Errorf("execution transitions %v, want %v", tr["execution"], want)
			}
		})
	}
}

// TestRetryConflictsAndLimits covers the errors the model declares for
// RetryPipelineExecution, and its idempotency.
func TestRetryConflictsAndLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) {
		o.MaxRunningExecutions = 1
		o.MaxRetries = 1
	})
	pipe := e.createPipeline(retryDef(e.queueURL))
	arn := e.start(pipe)
	token := e.callbackMessages(1)[0]["token"].(string)

	const crt = "retry-0000-1111-2222-333344445555"
	checkCode(t, e.retry(arn, crt), "ConflictException") // Executing
	e.fail(token, "worker crashed")
	e.waitStatus(arn, smtypes.PipelineExecutionStatusFailed)

	// Another execution takes the one running slot.
	other := e.start(pipe)
	otherToken := e.callbackMessages(1)[0]["token"].(string)
	checkCode(t, e.retry(arn, crt), "ResourceLimitExceeded")
	e.fail(otherToken, "done")
	e.waitStatus(other, smtypes.PipelineExecutionStatusFailed)

	if err := e.retry(arn, crt); err != nil {
		t.Fatalf("retry: %v", err)
	}
	// The same ClientRequestToken replays the success without a second retry.
	if err := e.retry(arn, crt); err != nil {
		t.Fatalf("replayed retry: %v", err)
	}
	retried := e.callbackMessages(1)[0]["token"].(string)
	_, err := e.sm.RetryPipelineExecution(e.ctx, &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn),
		ClientRequestToken: aws.String(crt), ParallelismConfiguration: &smtypes.ParallelismConfiguration{MaxParallelExecutionSteps: aws.Int32(2)}})
	checkCode(t, err, "ConflictException") // same token, other members
	if err := e.succeed(retried); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)
	checkCode(t, e.retry(arn, ""), "ConflictException") // Succeeded
	// A second failure cannot be retried: MaxRetries is 1.
	again := e.start(pipe)
	e.fail(e.callbackMessages(1)[0]["token"].(string), "worker crashed")
	e.waitStatus(again, smtypes.PipelineExecutionStatusFailed)
	if err := e.retry(again, ""); err != nil {
		t.Fatalf("first retry of another execution: %v", err)
	}
	e.fail(e.callbackMessages(1)[0]["token"].(string), "worker crashed again")
	e.waitStatus(again, smtypes.PipelineExecutionStatusFailed)
	checkCode(t, e.retry(again, ""), "ResourceLimitExceeded")
	if ex := e.doneTransitions(arn)["execution"]; len(ex) != 4 {
		t.Errorf("execution transitions %v, want one retry only", ex)
	}

	cases := []struct {
		name string
		in   *sagemaker.RetryPipelineExecutionInput
		want string
	}{
		{"unknown execution", &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn + "x")}, "ResourceNotFound"},
		{"not an execution ARN", &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p")}, "ValidationException"},
		{"ClientRequestToken of 31", &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn), ClientRequestToken: aws.String("0123456789012345678901234567890")}, "ValidationException"},
		{"ClientRequestToken of 129", &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn), ClientRequestToken: aws.String(fmt.Sprintf("%0129d", 1))}, "ValidationException"},
		{"parallelism 0", &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn),
			ParallelismConfiguration: &smtypes.ParallelismConfiguration{MaxParallelExecutionSteps: aws.Int32(0)}}, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sm.RetryPipelineExecution(e.ctx, tc.in)
			checkCode(t, err, tc.want)
		})
	}
}

// TestRetrySwitches: RetryRerunsAll runs succeeded steps again too, and
// ListEveryAttempt lists the replaced attempts beside the new ones.
func TestRetrySwitches(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(o *emulator.Options) {
		o.Switches.RetryRerunsAll = true
		o.Switches.ListEveryAttempt = true
	})
	arn := e.start(e.createPipeline(retryDef(e.queueURL)))
	e.fail(e.callbackMessages(1)[0]["token"].(string), "worker crashed")
	e.waitStatus(arn, smtypes.PipelineExecutionStatusFailed)
	if err := e.retry(arn, ""); err != nil {
		t.Fatal(err)
	}
	if err := e.succeed(e.callbackMessages(1)[0]["token"].(string)); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)

	var attempts []string
	p := sagemaker.NewListPipelineExecutionStepsPaginator(e.sm, &sagemaker.ListPipelineExecutionStepsInput{
		PipelineExecutionArn: aws.String(arn), SortOrder: smtypes.SortOrderAscending})
	for p.HasMorePages() {
		pg, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range pg.PipelineExecutionSteps {
			attempts = append(attempts, fmt.Sprintf("%s#%d:%s", aws.ToString(s.StepName), aws.ToInt32(s.AttemptCount), s.StepStatus))
		}
	}
	want := []string{"Prep#1:Succeeded", "Wait#1:Failed", "Prep#2:Succeeded", "Wait#2:Succeeded", "Publish#1:Succeeded"}
	if !equal(attempts, want) {
		t.Errorf("attempts %v, want %v", attempts, want)
	}
}

func names(steps map[string]smtypes.PipelineExecutionStep) []string {
	var out []string
	for name, s := range steps {
		out = append(out, name+":"+string(s.StepStatus))
	}
	return out
}
