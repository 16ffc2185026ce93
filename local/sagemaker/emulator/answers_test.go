package emulator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestAnswers reports what the emulator accepted: one answer per answered
// token with its operation, none for a token not answered, and a refused
// second answer is not counted.
func TestAnswers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Callback("A", e.queueURL), emulatortest.Callback("B", e.queueURL)).JSON())
	arn := e.start(pipe)
	e.callbackMessages(2) // both steps wait for an answer
	tokens := map[string]string{}
	for name, s := range e.steps(arn) {
		if s.Metadata != nil && s.Metadata.Callback != nil {
			tokens[name] = aws.ToString(s.Metadata.Callback.CallbackToken)
		}
	}
	if len(tokens) != 2 {
		t.Fatalf("callback messages for steps %v, want A and B", tokens)
	}
	if got := e.emu.Answers(arn); len(got) != 2 || got[0].Accepted != 0 || got[1].Accepted != 0 {
		t.Fatalf("before any answer: %+v, want two tokens with nothing accepted", got)
	}
	if _, err := e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
		CallbackToken: aws.String(tokens["A"]), FailureReason: aws.String("stopped"), ClientRequestToken: aws.String("11111111-2222-3333-4444-555555555555"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
		CallbackToken: aws.String(tokens["A"]), ClientRequestToken: aws.String("21111111-2222-3333-4444-555555555555"),
	}); err == nil {
		t.Fatal("a second answer was accepted")
	}
	e.waitStep(arn, "A", smtypes.StepStatusFailed)
	got := e.emu.Answers(arn)
	want := map[string]struct {
		accepted int
		op       string
	}{"A": {1, "SendPipelineExecutionStepFailure"}, "B": {0, ""}}
	for _, a := range got {
		if w := want[a.StepName]; a.Accepted != w.accepted || a.Operation != w.op || a.Token != tokens[a.StepName] {
			t.Errorf("step %s: %+v, want token %s accepted %d by %q", a.StepName, a, tokens[a.StepName], w.accepted, w.op)
		}
	}
}
