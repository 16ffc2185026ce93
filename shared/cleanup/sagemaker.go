package cleanup

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// JobStopper stops SageMaker training, processing and transform jobs;
// *sagemaker.Client satisfies it.
type JobStopper interface {
	StopTrainingJob(ctx context.Context, in *sagemaker.StopTrainingJobInput, opts ...func(*sagemaker.Options)) (*sagemaker.StopTrainingJobOutput, error)
	StopProcessingJob(ctx context.Context, in *sagemaker.StopProcessingJobInput, opts ...func(*sagemaker.Options)) (*sagemaker.StopProcessingJobOutput, error)
	StopTransformJob(ctx context.Context, in *sagemaker.StopTransformJobInput, opts ...func(*sagemaker.Options)) (*sagemaker.StopTransformJobOutput, error)
}

var _ JobStopper = (*sagemaker.Client)(nil)

// SageMakerJob stops SageMaker jobs of one kind (ID: the job name). Jobs a
// pipeline's own steps run are stopped by SageMaker; these are jobs a
// callback step's worker started itself.
type SageMakerJob struct {
	Client JobStopper
	kind   string
}

// SageMakerJobs returns the cleaners of the three job kinds.
func SageMakerJobs(client JobStopper) []Cleaner {
	return []Cleaner{
		SageMakerJob{Client: client, kind: pipeline.ResourceSageMakerTrainingJob},
		SageMakerJob{Client: client, kind: pipeline.ResourceSageMakerProcessingJob},
		SageMakerJob{Client: client, kind: pipeline.ResourceSageMakerTransformJob},
	}
}

// Kind implements Cleaner.
func (c SageMakerJob) Kind() string { return c.kind }

// Clean stops the job. SageMaker refuses to stop a job that is no longer
// in progress with a ValidationException, and an unknown one with
// ResourceNotFound: both mean nothing runs.
func (c SageMakerJob) Clean(ctx context.Context, r pipeline.Resource, _ callback.Context) error {
	var err error
	name := aws.String(r.ID)
	switch c.kind {
	case pipeline.ResourceSageMakerTrainingJob:
		_, err = c.Client.StopTrainingJob(ctx, &sagemaker.StopTrainingJobInput{TrainingJobName: name})
	case pipeline.ResourceSageMakerProcessingJob:
		_, err = c.Client.StopProcessingJob(ctx, &sagemaker.StopProcessingJobInput{ProcessingJobName: name})
	case pipeline.ResourceSageMakerTransformJob:
		_, err = c.Client.StopTransformJob(ctx, &sagemaker.StopTransformJobInput{TransformJobName: name})
	default:
		return fmt.Errorf("SageMaker job cleaner built without a kind; use SageMakerJobs")
	}
	switch {
	case err == nil,
		apiErrorIs(err, []string{"ResourceNotFound"}),
		apiErrorIs(err, []string{"ValidationException"}, "not in progress", "already", "in status"):
		return nil
	}
	return err
}
