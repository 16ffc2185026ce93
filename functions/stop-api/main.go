// Command stop-api is the HTTP API function: stop an execution or a whole
// pipeline, and see what a stop waits for.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
	"github.com/stopcoord/stopcoord/shared/startup"
)

// DefaultMaxBodyBytes bounds a request body: a stop request is a few
// hundred bytes, so 16 KiB is generous and cheap to reject beyond.
const DefaultMaxBodyBytes = 16 << 10

type appConfig struct {
	scope        pipeline.CleanupScope
	table        string
	retention    time.Duration
	stopQueueURL string
	access       pipeline.AllowList
	maxBodyBytes int
}

func loadConfig(env *settings.Env) (appConfig, error) {
	c := appConfig{
		table:        env.String(settings.TableName),
		retention:    env.Duration(settings.Retention, ledger.DefaultRetention, 24*time.Hour, 10*365*24*time.Hour),
		stopQueueURL: env.String(settings.StopQueueURL),
		access:       startup.AccessFromEnv(env),
		maxBodyBytes: env.Int(settings.MaxBodyBytes, DefaultMaxBodyBytes, 1<<10, 1<<20),
	}
	c.scope = startup.ScopeFromEnv(env)
	return c, env.Err()
}

func main() {
	cfg, awsCfg, _ := startup.Load(context.Background(), loadConfig)
	coord := coordinator.New(coordinator.Deps{
		Ledger:       ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.table, ledger.WithRetention(cfg.retention)),
		SageMaker:    sagemaker.NewFromConfig(awsCfg),
		SQS:          sqs.NewFromConfig(awsCfg),
		StopQueueURL: cfg.stopQueueURL,
		Access:       cfg.access,
		Scope:        cfg.scope,
	})
	h := &handler{coord: coord, maxBodyBytes: cfg.maxBodyBytes, home: executionHome{Region: awsCfg.Region, Accounts: cfg.access.Accounts}}
	slog.Info("stop-api ready", "table", cfg.table)
	lambda.Start(h.handle)
}
