package coordinator_test

import (
	"errors"
	"testing"

	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestRegisterResources(t *testing.T) {
	w := newWorld(t)
	arn := w.Start(w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue))))
	token := *w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting).Metadata.Callback.CallbackToken
	sfnRes := pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: sfnARN}
	glueRes := pipeline.Resource{Kind: pipeline.ResourceGlueJobRun, ID: "jr_1", Params: map[string]string{pipeline.ParamJobName: "etl"}}
	tests := []struct {
		name     string
		in       coordinator.ResourcesInput
		wantCode string
		wantPlan int
	}{
		{"first registration creates the record", coordinator.ResourcesInput{Token: token, ExecutionARN: arn, Resources: []pipeline.Resource{sfnRes}}, "", 1},
		{"more resources are appended", coordinator.ResourcesInput{Token: token, ExecutionARN: arn, Resources: []pipeline.Resource{glueRes, sfnRes}}, "", 2},
		{"the same again changes nothing", coordinator.ResourcesInput{Token: token, ExecutionARN: arn, Resources: []pipeline.Resource{glueRes}}, "", 2},
		{"unknown kind", coordinator.ResourcesInput{Token: token, ExecutionARN: arn, Resources: []pipeline.Resource{{Kind: "emr-cluster", ID: "j-1"}}}, pipeline.EInvalid, 0},
		{"glue run without its job", coordinator.ResourcesInput{Token: token, ExecutionARN: arn, Resources: []pipeline.Resource{{Kind: pipeline.ResourceGlueJobRun, ID: "jr_1"}}}, pipeline.EInvalid, 0},
		{"no resources", coordinator.ResourcesInput{Token: token, ExecutionARN: arn}, pipeline.EInvalid, 0},
		{"bad token", coordinator.ResourcesInput{Token: "nope", ExecutionARN: arn, Resources: []pipeline.Resource{sfnRes}}, pipeline.EInvalid, 0},
		{"bad ARN", coordinator.ResourcesInput{Token: token, ExecutionARN: "arn:aws:s3:::b", Resources: []pipeline.Resource{sfnRes}}, pipeline.EInvalid, 0},
		{"account not allowed", coordinator.ResourcesInput{Token: token, ExecutionARN: "arn:aws:sagemaker:us-east-1:999999999999:pipeline/etl/execution/abc123", Resources: []pipeline.Resource{sfnRes}}, pipeline.EUnauthorized, 0},
		{"a token the execution does not have", coordinator.ResourcesInput{Token: "Zz00Zz00Zz", ExecutionARN: arn, Resources: []pipeline.Resource{sfnRes}}, pipeline.ENotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := w.coord.RegisterResources(w.Ctx, tt.in)
			if code := pipeline.Code(err); code != tt.wantCode {
				t.Fatalf("code %q, want %q (err %v)", code, tt.wantCode, err)
			}
			if err == nil && (len(tok.CleanupPlan) != tt.wantPlan || tok.State != pipeline.TokenOpen) {
				t.Fatalf("plan %+v state %s, want %d resources", tok.CleanupPlan, tok.State, tt.wantPlan)
			}
		})
	}
	if _, err := w.Ledger.MarkAnswered(w.Ctx, mustARN(t, arn), token, pipeline.Answer{By: "test", Outcome: pipeline.OutcomeFailure}); err != nil {
		t.Fatal(err)
	}
	_, err := w.coord.RegisterResources(w.Ctx, coordinator.ResourcesInput{Token: token, ExecutionARN: arn, Resources: []pipeline.Resource{{Kind: pipeline.ResourceBatchJob, ID: "late"}}})
	var answered *pipeline.AlreadyAnsweredError
	if !errors.As(err, &answered) || pipeline.Code(err) != pipeline.EConflict {
		t.Fatalf("registration after the answer: %v, want a conflict", err)
	}
}
