package callback_test

import (
	"reflect"
	"testing"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestPlanFromArguments(t *testing.T) {
	tests := []struct {
		name       string
		args       map[string]any
		wantWorker callback.Worker
		want       []pipeline.Resource
		wantErr    bool
	}{
		{"no stopcoord keys", map[string]any{"number": 5.0, "s": "x"}, callback.Worker{}, nil, false},
		{"worker Lambda and queue", map[string]any{callback.ArgWorkerLambda: "arn:aws:lambda:us-east-1:123456789012:function:w", callback.ArgWorkerQueue: "https://sqs/q"},
			callback.Worker{LambdaFunction: "arn:aws:lambda:us-east-1:123456789012:function:w", QueueURL: "https://sqs/q"}, nil, false},
		{"every resource", map[string]any{
			callback.ArgCleanupLambda: "cleanup", callback.ArgSFNExecutionARN: "arn:sfn", callback.ArgBatchJobID: "job-1",
			callback.ArgSageMakerTrainingJob: "t", callback.ArgSageMakerProcessingJob: "p", callback.ArgSageMakerTransformJob: "x",
			callback.ArgGlueJobName: "etl", callback.ArgGlueJobRunID: "jr_1", callback.ArgECSCluster: "c", callback.ArgECSTaskARN: "arn:task",
		}, callback.Worker{}, []pipeline.Resource{
			{Kind: pipeline.ResourceLambdaCleanup, ID: "cleanup"},
			{Kind: pipeline.ResourceSFNExecution, ID: "arn:sfn"},
			{Kind: pipeline.ResourceBatchJob, ID: "job-1"},
			{Kind: pipeline.ResourceSageMakerTrainingJob, ID: "t"},
			{Kind: pipeline.ResourceSageMakerProcessingJob, ID: "p"},
			{Kind: pipeline.ResourceSageMakerTransformJob, ID: "x"},
			{Kind: pipeline.ResourceGlueJobRun, ID: "jr_1", Params: map[string]string{pipeline.ParamJobName: "etl"}},
			{Kind: pipeline.ResourceECSTask, ID: "arn:task", Params: map[string]string{pipeline.ParamCluster: "c"}},
		}, false},
		{"glue run without its job", map[string]any{callback.ArgGlueJobRunID: "jr_1"}, callback.Worker{}, nil, true},
		{"ecs cluster without a task", map[string]any{callback.ArgECSCluster: "c"}, callback.Worker{}, nil, true},
		{"number where a string belongs", map[string]any{callback.ArgBatchJobID: 5.0}, callback.Worker{}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := callback.PlanFromArguments(tt.args)
			if (err != nil) != tt.wantErr {
				t.Fatalf("PlanFromArguments(%v) err = %v, want error %v", tt.args, err, tt.wantErr)
			}
			if err != nil {
				if pipeline.Code(err) != pipeline.EInvalid {
					t.Fatalf("code %q, want invalid", pipeline.Code(err))
				}
				return
			}
			for i, r := range p.Resources {
				if r.RegisteredBy != callback.RegisteredByArguments {
					t.Fatalf("resource %d registered by %q, want %q", i, r.RegisteredBy, callback.RegisteredByArguments)
				}
				p.Resources[i].RegisteredBy = ""
			}
			if p.Worker != tt.wantWorker || !reflect.DeepEqual(p.Resources, tt.want) {
				t.Fatalf("PlanFromArguments(%v) = %+v, want worker %+v resources %+v", tt.args, p, tt.wantWorker, tt.want)
			}
		})
	}
}

func TestValidateResourceAndMerge(t *testing.T) {
	bad := []pipeline.Resource{
		{Kind: "emr-cluster", ID: "j-1"},
		{Kind: pipeline.ResourceSFNExecution},
		{Kind: pipeline.ResourceGlueJobRun, ID: "jr_1"},
		{Kind: pipeline.ResourceECSTask, ID: "arn:task", Params: map[string]string{"other": "x"}},
	}
	for _, r := range bad {
		if err := pipeline.ValidateResource(r); pipeline.Code(err) != pipeline.EInvalid {
			t.Errorf("ValidateResource(%+v) = %v, want invalid", r, err)
		}
	}
	a := pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: "arn:1"}
	b := pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "job"}
	got := pipeline.MergePlan([]pipeline.Resource{a}, []pipeline.Resource{b, a, b})
	if !reflect.DeepEqual(got, []pipeline.Resource{a, b}) {
		t.Fatalf("MergePlan = %+v, want [a b]", got)
	}
}
