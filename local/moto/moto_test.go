package moto_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

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
