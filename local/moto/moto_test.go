package moto_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
)

func TestStartServesSQSAndResets(t *testing.T) {
	ctx := context.Background()
	srv := moto.StartT(t)
	cfg, err := localaws.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("probe")}); err != nil {
		t.Fatalf("create queue: %v", err)
	}
	if err := srv.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
	out, err := client.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		t.Fatalf("list queues: %v", err)
	}
	if len(out.QueueUrls) != 0 {
		t.Fatalf("after reset got queues %v, want none", out.QueueUrls)
	}
}

// TestSendMessagePatch: the start-up patch is applied (moto_server says
// so), and what it touched still behaves: a FIFO queue with content-based
// deduplication drops a second send of the same body, and one without it
// still demands a deduplication id.
func TestSendMessagePatch(t *testing.T) {
	ctx := context.Background()
	srv := moto.StartT(t)
	cfg, err := localaws.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	dedup, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("dedup.fifo"),
		Attributes: map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: dedup.QueueUrl, MessageBody: aws.String("same"), MessageGroupId: aws.String("g")}); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dedup.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs.Attributes["ApproximateNumberOfMessages"]; n != "1" {
		t.Errorf("content-based deduplication kept %s messages of two identical sends, want 1", n)
	}
	plain, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("plain.fifo"), Attributes: map[string]string{"FifoQueue": "true"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: plain.QueueUrl, MessageBody: aws.String("x"), MessageGroupId: aws.String("g")}); err == nil {
		t.Error("a FIFO queue without content-based deduplication took a message without a deduplication id")
	}
	if !strings.Contains(srv.Output(), "stopcoord moto patch: applied") {
		t.Errorf("moto_server did not apply the SendMessage patch; its output:\n%s", srv.Output())
	}
}

// TestEventBridgeToSQSPatch: the start-up patch keeps each request's
// backend per host and each EventBridge JSONPath parsed once, and what it
// touched still behaves: two events to a rule with an input transformer
// reach the SQS target, each filled from its own event.
func TestEventBridgeToSQSPatch(t *testing.T) {
	ctx := context.Background()
	srv := moto.StartT(t)
	cfg, err := localaws.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("events")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("stops"), EventPattern: aws.String(`{"source":["stopcoord.test"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("stops"), Targets: []ebtypes.Target{{
		Id: aws.String("queue"), Arn: aws.String(attrs.Attributes["QueueArn"]),
		InputTransformer: &ebtypes.InputTransformer{InputPathsMap: map[string]string{"id": "$.detail.stopId"}, InputTemplate: aws.String(`{"stop": "<id>"}`)},
	}}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"stop-1", "stop-2"} {
		out, err := eb.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("stopcoord.test"), DetailType: aws.String("Stop Requested"), Detail: aws.String(`{"stopId":"` + id + `"}`)}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("put event %s: %+v, %v\n%s", id, out, err, srv.Output())
		}
	}
	var bodies []string
	for len(bodies) < 2 {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			t.Fatalf("the target queue got %d of 2 events: %q", len(bodies), bodies)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
	got := strings.Join(bodies, " ")
	for _, want := range []string{`"stop-1"`, `"stop-2"`} {
		if !strings.Contains(got, want) {
			t.Errorf("the queue got %q; want the transformed events of stop-1 and stop-2", bodies)
		}
	}
	for _, applied := range []string{"each request's backend is found once per host", "EventBridge parses each JSONPath once"} {
		if !strings.Contains(srv.Output(), applied) {
			t.Errorf("moto_server did not say %q; its output:\n%s", applied, srv.Output())
		}
	}
}
