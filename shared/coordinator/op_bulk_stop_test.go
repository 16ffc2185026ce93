package coordinator_test

import (
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestBulkStopQueuesEveryRunningExecution(t *testing.T) {
	w := newWorld(t)
	pipe := w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue)))
	var running []string
	for range 12 {
		running = append(running, w.Start(pipe))
	}
	finished := w.Start(w.CreatePipeline(definition(`{"Name":"Boom","Type":"Fail","Arguments":{"ErrorMessage":"no"}}`)))
	w.WaitStatus(finished, smtypes.PipelineExecutionStatusFailed)
	for _, arn := range running {
		w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	}

	res, err := w.coord.BulkStop(w.Ctx, coordinator.BulkStopInput{PipelineName: pipe, Reason: "nightly", RequestedBy: "ops"})
	if err != nil {
		t.Fatal(err)
	}
	var queued []string
	for _, q := range res.Executions {
		queued = append(queued, q.ExecutionARN)
		if q.StopID != pipeline.StopID(mustARN(t, q.ExecutionARN), "bulk-graceful") {
			t.Fatalf("stop id %s does not match the execution and key", q.StopID)
		}
	}
	sort.Strings(queued)
	sort.Strings(running)
	if len(queued) != len(running) || queued[0] != running[0] || queued[11] != running[11] {
		t.Fatalf("queued %v, want %v", queued, running)
	}

	// Consume the stop queue as the stop-queue function would.
	stopped := 0
	w.Eventually("every queued stop to be consumed", func() bool {
		out, err := w.SQS.ReceiveMessage(w.Ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.stops), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			msg, err := coordinator.ParseStopMessage(aws.ToString(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.coord.StopQueued(w.Ctx, msg); err != nil {
				t.Fatal(err)
			}
			stopped++
			w.SQS.DeleteMessage(w.Ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.stops), ReceiptHandle: m.ReceiptHandle})
		}
		return stopped == len(running)
	})
	for _, arn := range running {
		if got := w.Status(arn); got != smtypes.PipelineExecutionStatusStopping {
			t.Fatalf("%s is %s after the bulk stop, want Stopping", arn, got)
		}
	}
	if n := w.sm.stops.Load(); n != int64(len(running)) {
		t.Fatalf("%d StopPipelineExecution calls for %d executions", n, len(running))
	}
}

func TestBulkStopRejections(t *testing.T) {
	w := newWorld(t)
	restricted := coordinator.New(coordinator.Deps{Ledger: w.Ledger, SageMaker: w.sm, SQS: w.SQS, StopQueueURL: w.stops,
		Access: pipeline.AllowList{Accounts: []string{account}, Pipelines: []string{"prod-*"}}})
	tests := []struct {
		name     string
		coord    *coordinator.Service
		in       coordinator.BulkStopInput
		wantCode string
	}{
		{"unknown pipeline", w.coord, coordinator.BulkStopInput{PipelineName: "no-such-pipeline"}, pipeline.ENotFound},
		{"bad name", w.coord, coordinator.BulkStopInput{PipelineName: "bad_name"}, pipeline.EInvalid},
		{"bad mode", w.coord, coordinator.BulkStopInput{PipelineName: "p", Mode: "hard"}, pipeline.EInvalid},
		{"not allowed", restricted, coordinator.BulkStopInput{PipelineName: "dev-train"}, pipeline.EUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.coord.BulkStop(w.Ctx, tt.in); pipeline.Code(err) != tt.wantCode {
				t.Fatalf("BulkStop(%+v) = %v, want code %q", tt.in, err, tt.wantCode)
			}
		})
	}
}

func TestStopQueuedSettlesWhatRetryCannotChange(t *testing.T) {
	w := newWorld(t)
	done := w.Start(w.CreatePipeline(definition(`{"Name":"Boom","Type":"Fail","Arguments":{"ErrorMessage":"no"}}`)))
	w.WaitStatus(done, smtypes.PipelineExecutionStatusFailed)
	_, err := w.coord.StopQueued(w.Ctx, coordinator.StopMessage{ExecutionARN: done, Key: "k"})
	var settled *coordinator.Settled
	if !errorsAs(err, &settled) || pipeline.Code(err) != pipeline.EConflict {
		t.Fatalf("stop of a finished execution from the queue: err = %v, want Settled conflict", err)
	}
}

func TestParseStopMessage(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
	}{
		{`{"executionArn":"arn:x","key":"k","mode":"force"}`, true},
		{`{"executionArn":"arn:x"}`, false},
		{`{"executionArn":"arn:x","key":"k","extra":1}`, false},
		{`not json`, false},
		{``, false},
	}
	for _, tt := range tests {
		_, err := coordinator.ParseStopMessage(tt.body)
		if (err == nil) != tt.ok || (err != nil && pipeline.Code(err) != pipeline.EInvalid) {
			t.Errorf("ParseStopMessage(%q) = %v, want ok=%v", tt.body, err, tt.ok)
		}
	}
}
