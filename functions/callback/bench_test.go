package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Each benchmark message belongs to an execution of its own, as in a
// stop of many executions, and carries a fresh token.
func benchARN(n int) string {
	return fmt.Sprintf("arn:aws:sagemaker:us-east-1:123456789012:pipeline/train-model/execution/b%011d", n)
}

func stoppingBody(n int) string {
	return fmt.Sprintf(`{"token":"T%09d","pipelineExecutionArn":%q,"arguments":{"stopcoord_sfn_execution_arn":"arn:aws:states:us-east-1:123456789012:execution:etl:run-1","rows":5},"status":"Stopping"}`, n, benchARN(n))
}

func startBody(n int) string {
	return fmt.Sprintf(`{"token":"T%09d","pipelineExecutionArn":%q,"arguments":{"stopcoord_worker_queue":"https://sqs.us-east-1.amazonaws.com/123456789012/work","rows":5},"status":"Executing"}`, n, benchARN(n))
}

func record(id, body string) events.SQSMessage {
	return events.SQSMessage{MessageId: id, Body: body, ReceiptHandle: "rh-" + id, EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:callbacks",
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}}
}

// BenchmarkMessage is the cost per SQS message with the ledger on DynamoDB
// Local and SageMaker and the cleaners faked: parse, correlate, claim,
// clean, answer, record.
func BenchmarkMessage(b *testing.B) {
	for _, bc := range []struct {
		name string
		body func(int) string
	}{{"stopping", stoppingBody}, {"start", startBody}} {
		b.Run(bc.name, func(b *testing.B) {
			h, f := newHandler(b, 1, 0)
			ctx := context.Background()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				ev := events.SQSEvent{Records: []events.SQSMessage{record(fmt.Sprint(i), bc.body(i))}}
				resp, _ := h.handle(ctx, ev)
				if len(resp.BatchItemFailures) != 0 {
					b.Fatalf("message failed: %+v", resp)
				}
			}
			_ = f
		})
	}
}

// BenchmarkBatchOf10 handles a batch of ten Stopping messages with the
// ledger on DynamoDB Local and every faked SageMaker and cleaner call
// taking 2 ms, one record at a time and concurrently.
func BenchmarkBatchOf10(b *testing.B) {
	for _, concurrency := range []int{1, 4, 10} {
		b.Run(fmt.Sprintf("concurrency=%d", concurrency), func(b *testing.B) {
			h, _ := newHandler(b, concurrency, 2*time.Millisecond)
			ctx := context.Background()
			n := 0
			for b.Loop() {
				var ev events.SQSEvent
				for range 10 {
					n++
					ev.Records = append(ev.Records, record(fmt.Sprint(n), stoppingBody(n)))
				}
				if resp, _ := h.handle(ctx, ev); len(resp.BatchItemFailures) != 0 {
					b.Fatalf("failures: %+v", resp)
				}
			}
		})
	}
}
