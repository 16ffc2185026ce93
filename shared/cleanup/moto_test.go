package cleanup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	batchtypes "github.com/aws/aws-sdk-go-v2/service/batch/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/stopcoord/stopcoord/shared/cleanup"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// eventually polls cond every 20 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func unique(prefix string) string { return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()) }

func TestSFNAgainstMoto(t *testing.T) {
	ctx := context.Background()
	c := sfn.NewFromConfig(awsConfig(t), func(o *sfn.Options) { o.BaseEndpoint = aws.String(motoURL(t)) })
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(unique("etl")), RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn"),
		Definition: aws.String(`{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	cleaner := cleanup.SFN{Client: c}
	r := pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: aws.ToString(ex.ExecutionArn)}
	if err := cleaner.Clean(ctx, r, cc); err != nil {
		t.Fatal(err)
	}
	desc, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
	if err != nil || desc.Status != sfntypes.ExecutionStatusAborted {
		t.Fatalf("after Clean: %+v, %v; want ABORTED", desc, err)
	}
	if err := cleaner.Clean(ctx, r, cc); err != nil {
		t.Fatalf("cleaning an aborted execution again: %v, want success", err)
	}
	gone := pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: strings.Replace(aws.ToString(sm.StateMachineArn), ":stateMachine:", ":execution:", 1) + ":no-such-execution"}
	if err := cleaner.Clean(ctx, gone, cc); err != nil {
		t.Fatalf("cleaning an execution that does not exist: %v, want success", err)
	}
}

func TestBatchAgainstMoto(t *testing.T) {
	ctx := context.Background()
	c := batch.NewFromConfig(awsConfig(t), func(o *batch.Options) { o.BaseEndpoint = aws.String(motoURL(t)) })
	roleName := unique("batch")
	role := between(motoQuery(t, "iam", "2010-05-08", "CreateRole", url.Values{"RoleName": {roleName}, "AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[]}`}}), "<Arn>", "</Arn>")
	env, err := c.CreateComputeEnvironment(ctx, &batch.CreateComputeEnvironmentInput{ComputeEnvironmentName: aws.String(unique("ce")),
		Type: batchtypes.CETypeUnmanaged, State: batchtypes.CEStateEnabled, ServiceRole: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.CreateJobQueue(ctx, &batch.CreateJobQueueInput{JobQueueName: aws.String(unique("q")), Priority: aws.Int32(1), State: batchtypes.JQStateEnabled,
		ComputeEnvironmentOrder: []batchtypes.ComputeEnvironmentOrder{{ComputeEnvironment: env.ComputeEnvironmentArn, Order: aws.Int32(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	def, err := c.RegisterJobDefinition(ctx, &batch.RegisterJobDefinitionInput{JobDefinitionName: aws.String(unique("def")), Type: batchtypes.JobDefinitionTypeContainer,
		ContainerProperties: &batchtypes.ContainerProperties{Image: aws.String("busybox"), Command: []string{"sleep", "3600"},
			ResourceRequirements: []batchtypes.ResourceRequirement{{Type: batchtypes.ResourceTypeVcpu, Value: aws.String("1")}, {Type: batchtypes.ResourceTypeMemory, Value: aws.String("128")}}}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.SubmitJob(ctx, &batch.SubmitJobInput{JobName: aws.String("etl"), JobQueue: q.JobQueueArn, JobDefinition: def.JobDefinitionArn})
	if err != nil {
		t.Fatal(err)
	}
	if err := (cleanup.Batch{Client: c}).Clean(ctx, pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: aws.ToString(job.JobId)}, cc); err != nil {
		t.Fatal(err)
	}
	// The SDK cannot decode moto's DescribeJobs (it writes vCPUs as 1.0),
	// so the job is read through the REST path as plain JSON.
	eventually(t, "the job to be FAILED after TerminateJob", func() bool {
		req, _ := http.NewRequest(http.MethodPost, motoURL(t)+"/v1/describejobs", strings.NewReader(`{"jobs":["`+aws.ToString(job.JobId)+`"]}`))
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/batch/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Jobs []struct{ Status, StatusReason string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Jobs) != 1 {
			t.Fatalf("describe job: %+v, %v", out, err)
		}
		return out.Jobs[0].Status == "FAILED" && out.Jobs[0].StatusReason != ""
	})
	unknown := pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "00000000-0000-0000-0000-000000000000"}
	if err := (cleanup.Batch{Client: c}).Clean(ctx, unknown, cc); err != nil {
		t.Fatalf("terminating an unknown job: %v, want success", err)
	}
}
