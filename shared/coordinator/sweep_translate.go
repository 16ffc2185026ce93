package coordinator

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// executionFromSageMaker is the change DescribePipelineExecution reports,
// timed as an event would be: the end for a terminal status, the start
// for Executing, the last modification otherwise.
func executionFromSageMaker(arn pipeline.ExecutionARN, d *sagemaker.DescribePipelineExecutionOutput) pipeline.ExecutionChange {
	status := pipeline.ExecutionStatus(d.PipelineExecutionStatus)
	c := pipeline.ExecutionChange{
		ARN:           arn,
		Status:        status,
		At:            aws.ToTime(d.LastModifiedTime),
		StartedAt:     aws.ToTime(d.CreationTime),
		DisplayName:   aws.ToString(d.PipelineExecutionDisplayName),
		FailureReason: aws.ToString(d.FailureReason),
	}
	if status.Terminal() {
		c.EndedAt = c.At
	}
	if status == pipeline.ExecutionExecuting && !c.StartedAt.IsZero() {
		c.At = c.StartedAt
	}
	return c
}

// stepFromSageMaker is the change ListPipelineExecutionSteps reports for a
// step, with the kind its metadata implies.
func stepFromSageMaker(arn pipeline.ExecutionARN, s smtypes.PipelineExecutionStep, now time.Time) pipeline.StepChange {
	status := pipeline.StepStatus(s.StepStatus)
	c := pipeline.StepChange{
		ARN:           arn,
		StepName:      aws.ToString(s.StepName),
		Status:        status,
		StartedAt:     aws.ToTime(s.StartTime),
		EndedAt:       aws.ToTime(s.EndTime),
		FailureReason: aws.ToString(s.FailureReason),
	}
	switch {
	case status.Terminal() && !c.EndedAt.IsZero():
		c.At = c.EndedAt
	case (status == pipeline.StepStarting || status == pipeline.StepExecuting) && !c.StartedAt.IsZero():
		c.At = c.StartedAt
	default:
		c.At = now // a Stopping step carries no time of its own
	}
	if m := s.Metadata; m != nil {
		switch {
		case m.Callback != nil:
			c.Kind, c.CallbackToken = pipeline.KindCallback, aws.ToString(m.Callback.CallbackToken)
		case m.Lambda != nil:
			c.Kind, c.FunctionARN = pipeline.KindLambda, aws.ToString(m.Lambda.Arn)
		case m.TrainingJob != nil:
			c.Kind, c.JobARN = pipeline.KindTraining, aws.ToString(m.TrainingJob.Arn)
		case m.ProcessingJob != nil:
			c.Kind, c.JobARN = pipeline.KindProcessing, aws.ToString(m.ProcessingJob.Arn)
		case m.TransformJob != nil:
			c.Kind, c.JobARN = pipeline.KindTransform, aws.ToString(m.TransformJob.Arn)
		case m.TuningJob != nil:
			c.Kind, c.JobARN = pipeline.KindTuning, aws.ToString(m.TuningJob.Arn)
		case m.Condition != nil:
			c.Kind = pipeline.KindCondition
		case m.Fail != nil:
			c.Kind = pipeline.KindFail
		}
	}
	return c
}

// countingSageMaker counts the SageMaker calls of one sweeper run.
type countingSageMaker struct {
	SweepSageMaker
	calls *int
}

func (c *countingSageMaker) DescribePipelineExecution(ctx context.Context, in *sagemaker.DescribePipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error) {
	*c.calls++
	return c.SweepSageMaker.DescribePipelineExecution(ctx, in, opts...)
}

func (c *countingSageMaker) DescribePipeline(ctx context.Context, in *sagemaker.DescribePipelineInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineOutput, error) {
	*c.calls++
	return c.SweepSageMaker.DescribePipeline(ctx, in, opts...)
}

func (c *countingSageMaker) ListPipelineExecutionSteps(ctx context.Context, in *sagemaker.ListPipelineExecutionStepsInput, opts ...func(*sagemaker.Options)) (*sagemaker.ListPipelineExecutionStepsOutput, error) {
	*c.calls++
	return c.SweepSageMaker.ListPipelineExecutionSteps(ctx, in, opts...)
}
