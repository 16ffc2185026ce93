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
	d := stepMetadata(s.Metadata)
	c.Kind, c.CallbackToken, c.FunctionARN, c.JobARN = d.kind, d.callbackToken, d.functionARN, d.jobARN
	return c
}

// countingSageMaker counts the SageMaker calls of one sweeper run.
type countingSageMaker struct {
	SageMaker
	calls *int
}

func (c *countingSageMaker) DescribePipelineExecution(ctx context.Context, in *sagemaker.DescribePipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error) {
	*c.calls++
	return c.SageMaker.DescribePipelineExecution(ctx, in, opts...)
}

func (c *countingSageMaker) DescribePipelineDefinitionForExecution(ctx context.Context, in *sagemaker.DescribePipelineDefinitionForExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error) {
	*c.calls++
	return c.SageMaker.DescribePipelineDefinitionForExecution(ctx, in, opts...)
}

func (c *countingSageMaker) ListPipelineExecutionSteps(ctx context.Context, in *sagemaker.ListPipelineExecutionStepsInput, opts ...func(*sagemaker.Options)) (*sagemaker.ListPipelineExecutionStepsOutput, error) {
	*c.calls++
	return c.SageMaker.ListPipelineExecutionSteps(ctx, in, opts...)
}

// stepDetails is what a step's metadata says about it.
type stepDetails struct {
	kind                               pipeline.StepKind
	callbackToken, functionARN, jobARN string
}

// stepMetadata reads the step kind, and the token, function or job ARN,
// from the one member of SageMaker's step metadata that is set.
func stepMetadata(m *smtypes.PipelineExecutionStepMetadata) stepDetails {
	switch {
	case m == nil:
		return stepDetails{}
	case m.Callback != nil:
		return stepDetails{kind: pipeline.KindCallback, callbackToken: aws.ToString(m.Callback.CallbackToken)}
	case m.Lambda != nil:
		return stepDetails{kind: pipeline.KindLambda, functionARN: aws.ToString(m.Lambda.Arn)}
	case m.TrainingJob != nil:
		return stepDetails{kind: pipeline.KindTraining, jobARN: aws.ToString(m.TrainingJob.Arn)}
	case m.ProcessingJob != nil:
		return stepDetails{kind: pipeline.KindProcessing, jobARN: aws.ToString(m.ProcessingJob.Arn)}
	case m.TransformJob != nil:
		return stepDetails{kind: pipeline.KindTransform, jobARN: aws.ToString(m.TransformJob.Arn)}
	case m.TuningJob != nil:
		return stepDetails{kind: pipeline.KindTuning, jobARN: aws.ToString(m.TuningJob.Arn)}
	case m.Condition != nil:
		return stepDetails{kind: pipeline.KindCondition}
	case m.Fail != nil:
		return stepDetails{kind: pipeline.KindFail}
	}
	return stepDetails{}
}
