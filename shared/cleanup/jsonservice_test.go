package cleanup_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/cleanup"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// The services below are tested against httptest servers speaking their
// JSON 1.1 protocol, through the real SDK clients, because moto 5.2.1
// cannot serve them: it has no Glue BatchStopJobRun and no SageMaker
// Stop*Job, and its ECS task responses carry numbers where the SDK expects
// strings (cpu, memory), so RunTask and StopTask outputs fail to decode.

func TestGlue(t *testing.T) {
	run := pipeline.Resource{Kind: pipeline.ResourceGlueJobRun, ID: "jr_1", Params: map[string]string{pipeline.ParamJobName: "etl"}}
	tests := []struct {
		name    string
		reply   reply
		wantErr string
	}{
		{"stopped", reply{200, `{"SuccessfulSubmissions":[{"JobName":"etl","JobRunId":"jr_1"}],"Errors":[]}`}, ""},
		{"already finished", reply{200, `{"SuccessfulSubmissions":[],"Errors":[{"JobName":"etl","JobRunId":"jr_1","ErrorDetail":{"ErrorCode":"InvalidInputException","ErrorMessage":"Job Run jr_1 is not running"}}]}`}, ""},
		{"run unknown", reply{200, `{"Errors":[{"JobName":"etl","JobRunId":"jr_1","ErrorDetail":{"ErrorCode":"EntityNotFoundException","ErrorMessage":"Job run jr_1 not found"}}]}`}, ""},
		{"job unknown", reply{400, `{"__type":"EntityNotFoundException","Message":"Job etl not found"}`}, ""},
		{"refused", reply{200, `{"Errors":[{"JobName":"etl","JobRunId":"jr_1","ErrorDetail":{"ErrorCode":"AccessDeniedException","ErrorMessage":"no glue:BatchStopJobRun"}}]}`}, "AccessDeniedException"},
		{"unavailable", reply{500, `{"__type":"InternalServiceException","Message":"try later"}`}, "InternalServiceException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJSONService(t, map[string]reply{"AWSGlue.BatchStopJobRun": tt.reply})
			c := glue.NewFromConfig(awsConfig(t), func(o *glue.Options) { o.BaseEndpoint = aws.String(srv.URL); o.RetryMaxAttempts = 1 })
			err := (cleanup.Glue{Client: c}).Clean(context.Background(), run, cc)
			checkErr(t, err, tt.wantErr)
			if _, bodies := srv.calls(); len(bodies) != 1 || !strings.Contains(bodies[0], `"JobName":"etl"`) || !strings.Contains(bodies[0], `"jr_1"`) {
				t.Fatalf("requests %v", bodies)
			}
		})
	}
}

func TestSageMakerJobs(t *testing.T) {
	ops := map[string]string{
		pipeline.ResourceSageMakerTrainingJob:   "SageMaker.StopTrainingJob",
		pipeline.ResourceSageMakerProcessingJob: "SageMaker.StopProcessingJob",
		pipeline.ResourceSageMakerTransformJob:  "SageMaker.StopTransformJob",
	}
	tests := []struct {
		name    string
		reply   reply
		wantErr string
	}{
		{"stopped", reply{200, `{}`}, ""},
		{"no longer in progress", reply{400, `{"__type":"ValidationException","Message":"The job is not in progress: Completed"}`}, ""},
		{"unknown", reply{400, `{"__type":"ResourceNotFound","Message":"Requested resource not found"}`}, ""},
		{"bad name", reply{400, `{"__type":"ValidationException","Message":"1 validation error detected: Value at 'trainingJobName' failed to satisfy constraint"}`}, "ValidationException"},
		{"throttled", reply{400, `{"__type":"ThrottlingException","Message":"Rate exceeded"}`}, "ThrottlingException"},
	}
	for _, cleaner := range cleanup.SageMakerJobs(nil) {
		for _, tt := range tests {
			t.Run(cleaner.Kind()+"/"+tt.name, func(t *testing.T) {
				srv := newJSONService(t, map[string]reply{ops[cleaner.Kind()]: tt.reply})
				c := sagemaker.NewFromConfig(awsConfig(t), func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(srv.URL); o.RetryMaxAttempts = 1 })
				var withClient cleanup.Cleaner
				for _, k := range cleanup.SageMakerJobs(c) {
					if k.Kind() == cleaner.Kind() {
						withClient = k
					}
				}
				err := withClient.Clean(context.Background(), pipeline.Resource{Kind: cleaner.Kind(), ID: "etl-job-1"}, cc)
				checkErr(t, err, tt.wantErr)
				if targets, bodies := srv.calls(); len(targets) != 1 || targets[0] != ops[cleaner.Kind()] || !strings.Contains(bodies[0], `"etl-job-1"`) {
					t.Fatalf("requests %v %v", targets, bodies)
				}
			})
		}
	}
}

func TestECS(t *testing.T) {
	task := pipeline.Resource{Kind: pipeline.ResourceECSTask, ID: "arn:aws:ecs:us-east-1:123456789012:task/etl/abc", Params: map[string]string{pipeline.ParamCluster: "etl"}}
	tests := []struct {
		name    string
		reply   reply
		wantErr string
	}{
		{"stopped", reply{200, `{"task":{"taskArn":"arn:aws:ecs:us-east-1:123456789012:task/etl/abc","desiredStatus":"STOPPED","cpu":"256"}}`}, ""},
		{"cluster gone", reply{400, `{"__type":"ClusterNotFoundException","message":"Cluster not found."}`}, ""},
		{"task gone", reply{400, `{"__type":"InvalidParameterException","message":"The referenced task was not found."}`}, ""},
		{"denied", reply{400, `{"__type":"AccessDeniedException","message":"no ecs:StopTask"}`}, "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newJSONService(t, map[string]reply{"AmazonEC2ContainerServiceV20141113.StopTask": tt.reply})
			c := ecs.NewFromConfig(awsConfig(t), func(o *ecs.Options) { o.BaseEndpoint = aws.String(srv.URL); o.RetryMaxAttempts = 1 })
			checkErr(t, (cleanup.ECS{Client: c}).Clean(context.Background(), task, cc), tt.wantErr)
			if _, bodies := srv.calls(); len(bodies) != 1 || !strings.Contains(bodies[0], `"cluster":"etl"`) || !strings.Contains(bodies[0], `"reason":"pipeline execution`) {
				t.Fatalf("requests %v", bodies)
			}
		})
	}
}

func TestSetPicksTheCleanerByKind(t *testing.T) {
	set := cleanup.NewSet(cleanup.SFN{}, cleanup.Glue{})
	err := set.Clean(context.Background(), pipeline.Resource{Kind: "emr-cluster", ID: "j-1"}, cc)
	if pipeline.Code(err) != pipeline.EInvalid {
		t.Fatalf("unknown kind: %v, want invalid", err)
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("Clean: %v, want success", err)
	case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
		t.Fatalf("Clean: %v, want an error with %q", err, want)
	}
}
