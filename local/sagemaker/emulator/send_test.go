package emulator_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

func TestSendStepErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Callback("Wait", e.queueURL)).JSON())
	arn := e.start(pipe)
	token := e.callbackMessages(1)[0]["token"].(string)
	const crt = "11111111-2222-3333-4444-555555555555"
	if _, err := e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
		CallbackToken: aws.String(token), FailureReason: aws.String("worker failed"), ClientRequestToken: aws.String(crt),
	}); err != nil {
		t.Fatalf("first answer: %v", err)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusFailed)
	if d := e.describe(arn); deref(d.FailureReason) == "" {
		t.Error("failed execution has no FailureReason")
	}
	if s := e.steps(arn)["Wait"]; deref(s.FailureReason) != "worker failed" {
		t.Errorf("step failure reason %q, want the one sent", deref(s.FailureReason))
	}

	many := make([]smtypes.OutputParameter, 51)
	for i := range many {
		many[i] = smtypes.OutputParameter{Name: aws.String("n"), Value: aws.String("v")}
	}
	success := func(tok string, crt *string, outs []smtypes.OutputParameter) error {
		_, err := e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
			CallbackToken: aws.String(tok), ClientRequestToken: crt, OutputParameters: outs})
		return err
	}
	failure := func(tok string, crt *string, reason string) error {
		_, err := e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
			CallbackToken: aws.String(tok), ClientRequestToken: crt, FailureReason: aws.String(reason)})
		return err
	}
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"retry with the same ClientRequestToken replays success", func() error { return failure(token, aws.String(crt), "worker failed") }, ""},
		{"answered token, new request", func() error { return failure(token, nil, "again") }, "ConflictException"},
		{"answered token, success", func() error { return success(token, nil, nil) }, "ConflictException"},
		{"same ClientRequestToken, different request", func() error { return failure(token, aws.String(crt), "other") }, "ConflictException"},
		{"unknown token", func() error { return success("AAAAAAAAAA", nil, nil) }, "ResourceNotFound"},
		{"token too short", func() error { return success("abc", nil, nil) }, "ValidationException"},
		{"token not alphanumeric", func() error { return success("abcde-ghij", nil, nil) }, "ValidationException"},
		{"failure reason over 256", func() error { return failure(token, nil, strings.Repeat("x", 257)) }, "ValidationException"},
		{"more than 50 outputs", func() error { return success(token, nil, many) }, "ValidationException"},
		{"short ClientRequestToken", func() error { return success(token, aws.String("short"), nil) }, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkCode(t, tc.call(), tc.want) })
	}
}
