package sqspoller_test

import (
	"context"
	"log/slog"
	"os"
	"os/signal"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sqspoller"
)

// The local stack's SQS trigger: a queue on moto feeds a function under
// aws-lambda-rie until the process is interrupted.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))

	riePath, err := rie.Find()
	if err != nil {
		logger.Error("find aws-lambda-rie", "error", err)
		return
	}
	fn, err := rie.Start(ctx, riePath, rie.Spec{Bootstrap: ".local/bin/stop-queue/bootstrap", Name: "stop-queue"})
	if err != nil {
		logger.Error("start function", "error", err)
		return
	}
	defer fn.Stop()

	cfg, err := localaws.Config(ctx)
	if err != nil {
		logger.Error("load AWS config", "error", err)
		return
	}
	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:5055") })
	p := sqspoller.New(client, sqspoller.Config{
		QueueURL:                "http://127.0.0.1:5055/123456789012/stop-queue",
		QueueARN:                "arn:aws:sqs:us-east-1:123456789012:stop-queue",
		ReportBatchItemFailures: true,
	}, fn, logger)
	if err := p.Run(ctx); err != nil {
		logger.Error("poll stop-queue", "error", err)
	}
}
