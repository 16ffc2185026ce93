// Command stop-queue consumes the internal stop queue that bulk stops fan
// out through, within a SageMaker calls-per-second budget.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"golang.org/x/time/rate"

	"github.com/stopcoord/stopcoord/shared/budget"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// DefaultCallsPerSecond leaves most of SageMaker's per-account request rate
// to the pipelines themselves.
const DefaultCallsPerSecond = 10

type appConfig struct {
	table          string
	access         coordinator.AllowList
	callsPerSecond int
}

func loadConfig(env *settings.Env) (appConfig, error) {
	c := appConfig{
		table:          env.String(settings.TableName),
		access:         coordinator.AllowList{Accounts: env.List(settings.AllowedAccounts), Pipelines: env.List(settings.AllowedPipelines)},
		callsPerSecond: env.Int(settings.SageMakerCallsPerSecond, DefaultCallsPerSecond, 1, 1000),
	}
	env.Check(len(c.access.Accounts) > 0, "%s is required: the accounts whose executions may be stopped", settings.AllowedAccounts)
	for _, err := range c.access.Validate() {
		env.Check(false, "%s/%s: %v", settings.AllowedAccounts, settings.AllowedPipelines, err)
	}
	return c, env.Err()
}

func main() {
	log := logging.New()
	ctx := context.Background()
	cfg, err := loadConfig(settings.FromOS())
	if err != nil {
		log.Error("bad configuration", logging.KeyError, err.Error())
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Error("load AWS configuration", logging.KeyError, err.Error())
		os.Exit(1)
	}
	// Burst of one: the budget is a rate, not an allowance to save up.
	limiter := rate.NewLimiter(rate.Limit(cfg.callsPerSecond), 1)
	sm := sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) {
		o.APIOptions = append(o.APIOptions, budget.Limit(limiter))
	})
	coord := coordinator.New(coordinator.Deps{
		Ledger:    ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.table),
		SageMaker: sm,
		Access:    cfg.access,
	})
	slog.Info("stop-queue ready", "callsPerSecond", cfg.callsPerSecond)
	lambda.Start((&handler{stopper: coord}).handle)
}
