// Command sweeper runs on an EventBridge schedule and makes sure no stop is
// left hanging: it reconciles the ledger's non-terminal executions with
// SageMaker, stops executions past their maximum runtime, and re-drives or
// forces the cleanup of callbacks that hold an execution in Stopping. Each
// run is bounded; a large backlog is drained over several runs.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/budget"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
	"github.com/stopcoord/stopcoord/shared/settings"
	"github.com/stopcoord/stopcoord/shared/startup"
	"github.com/stopcoord/stopcoord/shared/stopevents"
)

// DefaultBatch is one run's executions: 100 at about 2 calls each, within
// a budget that leaves room for the stops and answers the run starts.
const DefaultBatch = 100

type appConfig struct {
	deployment     string
	scope          pipeline.CleanupScope
	table          string
	retention      time.Duration
	access         pipeline.AllowList
	policies       *policy.Set
	callsPerSecond int
	limits         coordinator.SweepLimits
	cleanerTimeout time.Duration
}

func loadConfig(env *settings.Env) (appConfig, error) {
	c := appConfig{
		table:          env.String(settings.TableName),
		retention:      env.Duration(settings.Retention, ledger.DefaultRetention, 24*time.Hour, 10*365*24*time.Hour),
		callsPerSecond: env.Int(settings.SageMakerCallsPerSecond, budget.DefaultCallsPerSecond, 1, 1000),
	}
	c.cleanerTimeout = env.Duration(settings.CleanerTimeout, coordinator.DefaultCleanerTimeout, 100*time.Millisecond, 15*time.Minute)
	c.limits.Executions = env.Int(settings.SweepBatch, DefaultBatch, 1, 10000)
	c.limits.Calls = env.Int(settings.SweepMaxCalls, 4*c.limits.Executions, 10, 100000)
	c.policies, c.access = startup.PoliciesFromEnv(env)
	c.scope = startup.ScopeFromEnv(env)
	c.deployment = env.Optional(settings.Deployment, startup.DefaultDeployment)
	return c, env.Err()
}

func main() {
	cfg, awsCfg, log := startup.Load(context.Background(), loadConfig)
	limiter := budget.NewLimiter(cfg.callsPerSecond) // a rate, holding one second's calls
	sm := sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) {
		o.APIOptions = append(o.APIOptions, budget.Limit(limiter))
	})
	led := ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.table, ledger.WithRetention(cfg.retention))
	lambdaClient := awslambda.NewFromConfig(awsCfg)
	sweeper := coordinator.New(coordinator.Deps{
		Ledger:    led,
		SageMaker: sm,
		Access:    cfg.access,
		Cleaner:   newCleaners(awsCfg, lambdaClient, sm),
		Scope:     cfg.scope,
		Outcome:   cfg.policies.StopOutcome,
		Policies:  cfg.policies,
		// The same bound as the callback function's, so a re-driven cleanup
		// behaves as the Stopping message's would have.
		CleanerTimeout: cfg.cleanerTimeout,
		SweepLimits:    cfg.limits,
		Observer:       &stopevents.Observer{Publisher: stopevents.NewPublisher(eventbridge.NewFromConfig(awsCfg)), Deployment: cfg.deployment},
		Logger:         log,
	})
	slog.Info("sweeper ready", "batch", cfg.limits.Executions, "maxCalls", cfg.limits.Calls, "callsPerSecond", cfg.callsPerSecond)
	lambda.Start((&handler{sweeper: sweeper}).handle)
}
