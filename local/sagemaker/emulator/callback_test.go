package emulator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

func TestCallbackStepStartMessageAndSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Callback("Wait", e.queueURL).Args(map[string]any{
		"number": 5, "label": map[string]any{"Get": "Parameters.Label"}, "arn": map[string]any{"Get": "Execution.PipelineExecutionArn"},
	}).Outputs(emulatortest.Output{Name: "result", Type: "String"})).Param("Label", "String", "x").JSON())
	arn := e.start(pipe, smtypes.Parameter{Name: aws.String("Label"), Value: aws.String("hello")})

	msgs := e.callbackMessages(1)
	m := msgs[0]
	if len(m) != 4 {
		t.Errorf("start message has keys %v, want token, pipelineExecutionArn, arguments, status", m)
	}
	token, _ := m["token"].(string)
	if !tokenPattern.MatchString(token) {
		t.Errorf("token %q, want 10 alphanumerics", token)
	}
	if m["pipelineExecutionArn"] != arn || m["status"] != "Executing" {
		t.Errorf("message %v, want arn %s and status Executing", m, arn)
	}
	args, _ := m["arguments"].(map[string]any)
	if args["number"] != float64(5) || args["label"] != "hello" || args["arn"] != arn {
		t.Errorf("arguments %v, want number 5, label hello, arn %s", args, arn)
	}
	step := e.waitStep(arn, "Wait", smtypes.StepStatusExecuting)
	if cb := step.Metadata.Callback; cb == nil || *cb.CallbackToken != token || *cb.SqsQueueUrl != e.queueURL {
		t.Fatalf("callback metadata %+v, want token %s queue %s", step.Metadata.Callback, token, e.queueURL)
	}

	out, err := e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
		CallbackToken:    aws.String(token),
		OutputParameters: []smtypes.OutputParameter{{Name: aws.String("result"), Value: aws.String("42")}},
	})
	if err != nil {
		t.Fatalf("send success: %v", err)
	}
	if *out.PipelineExecutionArn != arn {
		t.Errorf("send success returned %s, want %s", *out.PipelineExecutionArn, arn)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)
	step = e.steps(arn)["Wait"]
	if step.StepStatus != smtypes.StepStatusSucceeded || len(step.Metadata.Callback.OutputParameters) != 1 ||
		*step.Metadata.Callback.OutputParameters[0].Value != "42" {
		t.Errorf("step %+v, want Succeeded with output result=42", step)
	}
}
