package main

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stopcoord/stopcoord/shared/cleanup"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
)

// newCleaner is the callback consumer's use case with the same cleaners
// the callback function has: re-driving a cleanup from the sweeper must do
// exactly what the Stopping message would have done, answer with the
// pipeline's stop outcome, and never answer a token twice.
func newCleaner(awsCfg aws.Config, led *ledger.Ledger, sm *sagemaker.Client, cfg appConfig) coordinator.StoppingCleaner {
	lambdaClient := awslambda.NewFromConfig(awsCfg)
	cleaners := cleanup.NewSet(append([]cleanup.Cleaner{
		cleanup.Lambda{Client: lambdaClient},
		cleanup.SFN{Client: sfn.NewFromConfig(awsCfg)},
		cleanup.Glue{Client: glue.NewFromConfig(awsCfg)},
		cleanup.Batch{Client: batch.NewFromConfig(awsCfg)},
		cleanup.ECS{Client: ecs.NewFromConfig(awsCfg)},
	}, cleanup.SageMakerJobs(sm)...)...)
	return coordinator.NewCallbacks(coordinator.CallbackDeps{
		Ledger:    led,
		SageMaker: sm,
		Lambda:    lambdaClient,
		Cleaner:   cleaners,
		Access:    cfg.access,
		Scope:     cfg.scope,
		Outcome:   cfg.policies.StopOutcome,
		// The same bound as the callback function's, so a re-driven cleanup
		// behaves as the Stopping message's would have.
		CleanerTimeout: cfg.cleanerTimeout,
	})
}
