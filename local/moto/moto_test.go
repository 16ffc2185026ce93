package moto_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
