// Command callback consumes the callback queue that pipelines point their
// callback steps at: it registers each step and hands its work to the
// step's worker, and on a stop cleans up what the step started and answers
// its token exactly once.
package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/budget"
	"github.com/stopcoord/stopcoord/shared/cleanup"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
	"github.com/stopcoord/stopcoord/shared/settings"
	"github.com/stopcoord/stopcoord/shared/startup"
	"github.com/stopcoord/stopcoord/shared/worker"
)

// DefaultConcurrency is how many records of a batch are handled at once:
// enough to overlap the AWS round trips of a batch of 10, few enough to stay
// clear of SageMaker's per-account request rate.
const DefaultConcurrency = 4

type appConfig struct {
	scope          pipeline.CleanupScope
	table          string
	retention      time.Duration
	queueURL       string
	access         pipeline.AllowList
	policies       *policy.Set
	maxAttempts    int
	cleanerTimeout time.Duration
	retryBase      time.Duration
	concurrency    int
	callsPerSecond int
}

func loadConfig(env *settings.Env) (appConfig, error) {
	c := appConfig{
		table:          env.String(settings.TableName),
		retention:      env.Duration(settings.Retention, ledger.DefaultRetention, 24*time.Hour, 10*365*24*time.Hour),
		queueURL:       env.String(settings.CallbackQueueURL),
		maxAttempts:    env.Int(settings.CleanupMaxAttempts, coordinator.DefaultCleanupMaxAttempts, 1, 100),
		cleanerTimeout: env.Duration(settings.CleanerTimeout, coordinator.DefaultCleanerTimeout, 100*time.Millisecond, 15*time.Minute),
		retryBase:      env.Duration(settings.CleanupRetryBase, coordinator.DefaultRetryBase, time.Second, time.Hour),
		concurrency:    env.Int(settings.CallbackConcurrency, DefaultConcurrency, 1, 10),
		callsPerSecond: env.Int(settings.SageMakerCallsPerSecond, budget.DefaultCallsPerSecond, 1, 1000),
	}
	c.policies, c.access = startup.PoliciesFromEnv(env)
	c.scope = startup.ScopeFromEnv(env)
	return c, env.Err()
}

func main() {
	cfg, awsCfg, _ := startup.Load(context.Background(), loadConfig)
	limiter := budget.NewLimiter(cfg.callsPerSecond) // a rate, holding one second's calls
	sm := sagemaker.NewFromConfig(awsCfg, func(o *sagemaker.Options) {
		o.APIOptions = append(o.APIOptions, budget.Limit(limiter))
	})
	lambdaClient := awslambda.NewFromConfig(awsCfg)
	sqsClient := sqs.NewFromConfig(awsCfg)
	cleaners := cleanup.NewSet(append([]cleanup.Cleaner{
		cleanup.Lambda{Client: lambdaClient},
		cleanup.SFN{Client: sfn.NewFromConfig(awsCfg)},
		cleanup.Glue{Client: glue.NewFromConfig(awsCfg)},
		cleanup.Batch{Client: batch.NewFromConfig(awsCfg)},
		cleanup.ECS{Client: ecs.NewFromConfig(awsCfg)},
	}, cleanup.SageMakerJobs(sm)...)...)
	callbacks := coordinator.New(coordinator.Deps{
		Ledger:         ledger.New(dynamodb.NewFromConfig(awsCfg), cfg.table, ledger.WithRetention(cfg.retention)),
		SageMaker:      sm,
		Workers:        worker.Lambda{Client: lambdaClient},
		SQS:            sqsClient,
		Cleaner:        cleaners,
		Access:         cfg.access,
		Scope:          cfg.scope,
		Outcome:        cfg.policies.StopOutcome, // fail, or succeed with outputs, per pipeline
		MaxAttempts:    cfg.maxAttempts,
		CleanerTimeout: cfg.cleanerTimeout,
		RetryBase:      cfg.retryBase,
	})
	h := &handler{consumer: callbacks, sqs: sqsClient, queueURL: cfg.queueURL, concurrency: cfg.concurrency,
		reserve: DefaultDeadlineReserve, backoff: retry.NewExponentialJitterBackoff(MaxTransientBackoff)}
	slog.Info("callback ready", "table", cfg.table, "concurrency", cfg.concurrency, "maxAttempts", cfg.maxAttempts, "cleanerTimeout", cfg.cleanerTimeout.String())
	lambda.Start(h.handle)
}
