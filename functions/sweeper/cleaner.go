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
)

// newCleaners are the cleaners the callback function has: re-driving a
// cleanup from the sweeper must do exactly what the Stopping message would
// have done.
func newCleaners(awsCfg aws.Config, lambdaClient *awslambda.Client, sm *sagemaker.Client) cleanup.Set {
	return cleanup.NewSet(append([]cleanup.Cleaner{
		cleanup.Lambda{Client: lambdaClient},
		cleanup.SFN{Client: sfn.NewFromConfig(awsCfg)},
		cleanup.Glue{Client: glue.NewFromConfig(awsCfg)},
		cleanup.Batch{Client: batch.NewFromConfig(awsCfg)},
		cleanup.ECS{Client: ecs.NewFromConfig(awsCfg)},
	}, cleanup.SageMakerJobs(sm)...)...)
}
