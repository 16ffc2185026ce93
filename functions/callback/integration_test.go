package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/gluestandin"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sqspoller"
	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// TestStopEndToEnd stops an execution with three callback steps whose
// workers started a Step Functions execution, a Glue job run and leave a
// cleanup Lambda, on the local parts: the emulator sends callback messages
// to moto SQS, a poller that honours partial batch responses feeds the
// built bootstrap under aws-lambda-rie, which cleans up through the real
// SDK clients and answers the emulator.
func TestStopEndToEnd(t *testing.T) {
	b := testbed.New(t)
	cfg, err := localaws.Config(b.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	sfnClient := sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(b.MotoURL) })
	glueClient := glue.NewFromConfig(cfg, func(o *glue.Options) { o.BaseEndpoint = aws.String(b.MotoURL) })
	glueProxy, err := gluestandin.Start(b.MotoURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(glueProxy.Close)
	calls := b.RecordSageMaker()

	// The cleanup Lambda: a real bootstrap under its own RIE.
	cleanupLog := filepath.Join(t.TempDir(), "cleanup.jsonl")
	cleanupFn := rie.StartT(t, rie.Spec{Bootstrap: rie.BuildT(t, "./testdata/cleanupfn"), Name: "cleanup", Env: []string{"CLEANUP_LOG=" + cleanupLog}})

	// The first worker's Step Functions execution, started before the pipeline.
	sfnExec := startStateMachine(t, b, sfnClient)

	work := b.Queue("work")
	pipe := b.CreatePipeline(definition(
		step("Orchestrate", b.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnExec}),
		step("Transform", b.CallbackQueue, map[string]any{callback.ArgWorkerQueue: work}),
		// RIE serves one function, always named "function".
		step("Notify", b.CallbackQueue, map[string]any{callback.ArgCleanupLambda: "function"}),
	))

	fn := rie.StartT(t, rie.Spec{Bootstrap: testbed.Bootstrap(t, "."), Name: "callback", Timeout: time.Minute, Env: append(localaws.Env(),
		"AWS_ENDPOINT_URL_SAGEMAKER="+calls.URL,
		"AWS_ENDPOINT_URL_DYNAMODB="+b.DynamoDBURL,
		"AWS_ENDPOINT_URL_SQS="+b.MotoURL,
		"AWS_ENDPOINT_URL_SFN="+b.MotoURL,
		"AWS_ENDPOINT_URL_GLUE="+glueProxy.URL,
		"AWS_ENDPOINT_URL_LAMBDA="+cleanupFn.URL,
		settings.TableName+"="+b.Table,
		settings.CallbackQueueURL+"="+b.CallbackQueue,
		settings.AllowedAccounts+"=123456789012",
		settings.CleanerTimeout+"=10s",
		settings.CleanupScope+`={"sfn-execution":["arn:aws:states:*:123456789012:execution:*"],"glue-job-run":["*"],"lambda-cleanup":["function"],"worker-queue":["*/work*"]}`,
	)})
	queueARN := "arn:aws:sqs:us-east-1:123456789012:" + b.CallbackQueue[strings.LastIndex(b.CallbackQueue, "/")+1:]
	poller := sqspoller.New(b.SQS, sqspoller.Config{QueueURL: b.CallbackQueue, QueueARN: queueARN, BatchSize: 10, ReportBatchItemFailures: true}, fn, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- poller.Run(ctx) }()
	defer func() { cancel(); <-done }()

	arn := b.Start(pipe)
	execARN, err := pipeline.ParseExecutionARN(arn)
	if err != nil {
		t.Fatal(err)
	}

	// The second worker: takes its callback context from the work queue,
	// starts a Glue job run and registers it against the token (the ledger
	// operation behind PUT /callbacks/{token}/resources).
	cc := takeWork(t, b, work)
	runID := startGlueRun(t, b, glueClient)
	if _, err := b.Ledger.AppendResources(b.Ctx, execARN, cc.Token, []pipeline.Resource{
		{Kind: pipeline.ResourceGlueJobRun, ID: runID, Params: map[string]string{pipeline.ParamJobName: "etl"}}}); err != nil {
		t.Fatal(err)
	}
	b.Eventually("three callback tokens registered", func() bool {
		v, err := b.Ledger.ReadExecution(b.Ctx, execARN)
		return err == nil && len(v.Tokens) == 3
	})

	stopped := time.Now()
	coord := coordinator.New(coordinator.Deps{Ledger: b.Ledger, SageMaker: b.SageMaker, Access: pipeline.AllowList{Accounts: []string{"123456789012"}}})
	if _, err := coord.Stop(b.Ctx, coordinator.StopInput{ExecutionARN: arn, Reason: "end-to-end stop"}); err != nil {
		t.Fatal(err)
	}
	b.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	elapsed := time.Since(stopped)

	// Each resource was stopped.
	desc, err := sfnClient.DescribeExecution(b.Ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(sfnExec)})
	if err != nil || desc.Status != sfntypes.ExecutionStatusAborted {
		t.Fatalf("Step Functions execution: %+v, %v; want ABORTED", desc, err)
	}
	if stops := glueProxy.Stops(); len(stops) != 1 || stops[0].JobName != "etl" || len(stops[0].JobRunIDs) != 1 || stops[0].JobRunIDs[0] != runID {
		t.Fatalf("Glue stops %+v, want run %s of etl once", stops, runID)
	}
	logged, err := os.ReadFile(cleanupLog)
	if err != nil {
		t.Fatalf("the cleanup Lambda was never called: %v\n%s", err, fn.Output())
	}
	lines := bytes.Split(bytes.TrimSpace(logged), []byte("\n"))
	var got callback.Context
	if len(lines) != 1 || json.Unmarshal(lines[0], &got) != nil || got.StepName != "Notify" || got.Status != callback.StatusStopping || got.ExecutionARN != arn {
		t.Fatalf("cleanup Lambda calls:\n%s\nwant one with the Notify step's Stopping context", logged)
	}
	// Each token was answered once, and nothing more.
	if n, s := calls.Count("SendPipelineExecutionStepFailure"), calls.Count("SendPipelineExecutionStepSuccess"); n != 3 || s != 0 {
		t.Fatalf("%d step failures and %d successes sent, want 3 and 0", n, s)
	}
	view, err := b.Ledger.ReadExecution(b.Ctx, execARN)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range view.Tokens {
		if tok.State != pipeline.TokenAnswered || tok.Reason != "end-to-end stop" || tok.Attention {
			t.Errorf("token %s of %s: %s %q attention=%v", tok.Token, tok.StepName, tok.State, tok.Reason, tok.Attention)
		}
	}
	kinds := map[string]pipeline.CleanupStatus{}
	for _, cl := range view.Cleanups {
		kinds[cl.Resource.Kind] = cl.Status
		if cl.Attempts != 1 {
			t.Errorf("cleanup of %s took %d attempts", cl.Resource.Key(), cl.Attempts)
		}
	}
	want := map[string]pipeline.CleanupStatus{pipeline.ResourceSFNExecution: pipeline.CleanupSucceeded, pipeline.ResourceGlueJobRun: pipeline.CleanupSucceeded, pipeline.ResourceLambdaCleanup: pipeline.CleanupSucceeded}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("cleanups %v, want %v", kinds, want)
	}
	t.Logf("stop to Stopped with three callback steps cleaned and answered: %s", elapsed.Round(time.Millisecond))
}

func definition(steps ...string) string {
	return `{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.Join(steps, ",") + `]}`
}

func step(name, queue string, args map[string]any) string {
	a, _ := json.Marshal(args)
	return fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":%s,"OutputParameters":[]}`, name, queue, a)
}

func startStateMachine(t *testing.T, b *testbed.Bed, c *sfn.Client) string {
	t.Helper()
	sm, err := c.CreateStateMachine(b.Ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(fmt.Sprintf("etl-%d", time.Now().UnixNano())),
		Definition: aws.String(`{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/sfn"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.StartExecution(b.Ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(ex.ExecutionArn)
}

func startGlueRun(t *testing.T, b *testbed.Bed, c *glue.Client) string {
	t.Helper()
	_, err := c.CreateJob(b.Ctx, &glue.CreateJobInput{Name: aws.String("etl"), Role: aws.String("arn:aws:iam::123456789012:role/glue"),
		Command: &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://scripts/etl.py")}})
	if err != nil && !strings.Contains(err.Error(), "AlreadyExists") {
		t.Fatal(err)
	}
	run, err := c.StartJobRun(b.Ctx, &glue.StartJobRunInput{JobName: aws.String("etl")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(run.JobRunId)
}

// takeWork receives the callback context the consumer sent to a worker queue.
func takeWork(t *testing.T, b *testbed.Bed, queue string) callback.Context {
	t.Helper()
	var cc callback.Context
	b.Eventually("work on the worker queue", func() bool {
		out, err := b.SQS.ReceiveMessage(b.Ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return false
		}
		if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &cc); err != nil {
			t.Fatal(err)
		}
		return true
	})
	if cc.StepName != "Transform" || cc.Status != callback.StatusExecuting {
		t.Fatalf("worker got %+v", cc)
	}
	return cc
}
