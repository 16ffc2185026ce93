package emulator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// conditionDef branches on the Threshold parameter; the Else branch ends in
// a Fail step.
const conditionDef = `{"Version":"2020-12-01","Parameters":[{"Name":"Threshold","Type":"Float","DefaultValue":0.5}],"Steps":[
 {"Name":"Check","Type":"Condition","Arguments":{
   "Conditions":[{"Type":"GreaterThanOrEqualTo","LeftValue":{"Get":"Parameters.Threshold"},"RightValue":0.5}],
   "IfSteps":[{"Name":"Deploy","Type":"Processing","Arguments":{},"x-emulator":{"durationMs":1}}],
   "ElseSteps":[{"Name":"Stop","Type":"Fail","Arguments":{"ErrorMessage":{"Std:Join":{"On":" ","Values":["threshold",{"Get":"Parameters.Threshold"},"too low"]}}}}]}}]}`

func TestConditionAndFailSteps(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	pipe := e.createPipeline(conditionDef)
	cases := []struct {
		name        string
		threshold   string
		wantStatus  smtypes.PipelineExecutionStatus
		wantOutcome smtypes.ConditionOutcome
		ran, notRan string
		wantReason  string
	}{
		{"if branch", "0.9", smtypes.PipelineExecutionStatusSucceeded, smtypes.ConditionOutcomeTrue, "Deploy", "Stop", ""},
		{"else branch fails", "0.1", smtypes.PipelineExecutionStatusFailed, smtypes.ConditionOutcomeFalse, "Stop", "Deploy", "threshold 0.1 too low"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arn := e.start(pipe, smtypes.Parameter{Name: aws.String("Threshold"), Value: aws.String(tc.threshold)})
			e.waitStatus(arn, tc.wantStatus)
			steps := e.steps(arn)
			if o := steps["Check"].Metadata.Condition; o == nil || o.Outcome != tc.wantOutcome {
				t.Errorf("condition metadata %+v, want outcome %s", steps["Check"].Metadata, tc.wantOutcome)
			}
			if _, ok := steps[tc.ran]; !ok {
				t.Errorf("step %s did not run", tc.ran)
			}
			if _, ok := steps[tc.notRan]; ok {
				t.Errorf("step %s of the branch not taken ran", tc.notRan)
			}
			if got := deref(e.describe(arn).FailureReason); got != tc.wantReason {
				t.Errorf("failure reason %q, want %q", got, tc.wantReason)
			}
			if tc.wantReason != "" && deref(steps["Stop"].Metadata.Fail.ErrorMessage) != tc.wantReason {
				t.Errorf("fail metadata %+v", steps["Stop"].Metadata.Fail)
			}
		})
	}
}

// TestLambdaOutputFeedsCallback checks a data dependency: the callback's
// arguments carry the Lambda step's output.
func TestLambdaOutputFeedsCallback(t *testing.T) {
	t.Parallel()
	f := newLambda(t, false, func(map[string]any) string { return `{"answer": 7}` })
	e := newEnv(t, withLambda(f.srv.URL), realTime)
	def := emulatortest.Pipeline(emulatortest.Lambda("Fn", functionArn, 60).Args(lambdaArgs).Outputs(answerOutput), emulatortest.Callback("Wait", e.queueURL).Args(map[string]any{"fromLambda": map[string]any{"Get": "Steps.Fn.OutputParameters['answer']"}})).JSON()
	arn := e.start(e.createPipeline(def))
	msg := e.callbackMessages(1)[0]
	if args := msg["arguments"].(map[string]any); args["fromLambda"] != float64(7) {
		t.Errorf("arguments %v, want fromLambda 7", args)
	}
	if _, err := e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{CallbackToken: aws.String(msg["token"].(string))}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)
}
