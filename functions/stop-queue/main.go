// Command stop-queue consumes the internal stop queue that bulk stops fan
// out through, within a SageMaker calls-per-second budget.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/budget"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
	"github.com/stopcoord/stopcoord/shared/startup"
)

type appConfig struct {
	table          string
	retention      time.Duration
	access         pipeline.AllowList
	callsPerSecond int
}

func loadConfig(env *settings.Env) (appConfig, error) {
	c := appConfig{
		table:          env.String(settings.TableName),
		retention:      env.Duration(settings.Retention, ledger.DefaultRetention, 24*time.Hour, 10*365*24*time.Hour),
		access:         startup.AccessFromEnv(env),
		callsPerSecond: env.Int(settings.SageMakerCallsPerSecond, budget.DefaultCallsPerSecond, 1, 1000),
	}
	return c, env.Err()
}

func main() {
	cfg, awsCfg, _ := startup.Load(context.Background(), loadConfig)
	limiter := budget.NewLimiter(cfg.callsPerSecond) // a rate, holding one second's calls
	sm := sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) {
		o.APIOptions = append(o.APIOptions, budget.Limit(limiter))
	})
	coord := coordinator.New(coordinator.Deps{
		Ledger:    ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.table, ledger.WithRetention(cfg.retention)),
		SageMaker: sm,
		Access:    cfg.access,
	})
	slog.Info("stop-queue ready", "callsPerSecond", cfg.callsPerSecond)
	lambda.Start((&handler{stopper: coord, concurrency: stopsAtOnce(cfg.callsPerSecond),
		retry: &inInvocationRetry{attempts: retryAttempts, backoff: retry.NewExponentialJitterBackoff(maxRetryBackoff), reserve: deadlineReserve}}).handle)
}
