// Command status-events is the target of stopcoord's EventBridge rules:
// SageMaker's execution and step status changes go into the ledger, and
// Stop Requested events (from a rule, a schedule or a person) and fail-fast
// policies stop executions through the same use case as the HTTP API.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/time/rate"

	"github.com/stopcoord/stopcoord/shared/budget"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
	"github.com/stopcoord/stopcoord/shared/settings"
	"github.com/stopcoord/stopcoord/shared/startup"
	"github.com/stopcoord/stopcoord/shared/stopevents"
)

// definitionTTL is how long a pipeline's Lambda step timeouts are reused
// by a warm instance. Every invocation carries one event, so a cache that
// lived for one invocation would never be hit; a minute bounds how long an
// updated definition goes unseen.
const definitionTTL = time.Minute

type appConfig struct {
	deployment     string
	table          string
	retention      time.Duration
	stopQueueURL   string
	access         pipeline.AllowList
	policies       *policy.Set
	callsPerSecond int
}

func loadConfig(env *settings.Env) (appConfig, error) {
	c := appConfig{
		table:          env.String(settings.TableName),
		retention:      env.Duration(settings.Retention, ledger.DefaultRetention, 24*time.Hour, 10*365*24*time.Hour),
		stopQueueURL:   env.String(settings.StopQueueURL),
		callsPerSecond: env.Int(settings.SageMakerCallsPerSecond, budget.DefaultCallsPerSecond, 1, 1000),
	}
	c.policies, c.access = startup.PoliciesFromEnv(env)
	c.deployment = env.Optional(settings.Deployment, startup.DefaultDeployment)
	return c, env.Err()
}

func main() {
	cfg, awsCfg, _ := startup.Load(context.Background(), loadConfig)
	limiter := rate.NewLimiter(rate.Limit(cfg.callsPerSecond), 1)
	sm := sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) {
		o.APIOptions = append(o.APIOptions, budget.Limit(limiter))
	})
	led := ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.table, ledger.WithRetention(cfg.retention))
	svc := coordinator.New(coordinator.Deps{
		Ledger:       led,
		SageMaker:    sm,
		SQS:          sqs.NewFromConfig(awsCfg),
		StopQueueURL: cfg.stopQueueURL,
		Access:       cfg.access,
		Policies:     cfg.policies,
		Definitions:  coordinator.NewDefinitions(sm, definitionTTL, nil),
		Observer:     &stopevents.Observer{Publisher: stopevents.NewPublisher(eventbridge.NewFromConfig(awsCfg)), Deployment: cfg.deployment},
	})
	slog.Info("status-events ready", "table", cfg.table, "policies", cfg.policies.Len())
	lambda.Start((&handler{status: svc, stops: svc, access: cfg.access}).handle)
}
