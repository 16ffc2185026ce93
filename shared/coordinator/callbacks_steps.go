package coordinator

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// callbackStep is a callback step as ListPipelineExecutionSteps shows it.
type callbackStep struct {
	name   string
	token  string // the token in its metadata: the first one SageMaker issued
	status pipeline.StepStatus
}

// open reports whether the step still waits for an answer.
func (s callbackStep) open() bool {
	return s.status == pipeline.StepExecuting || s.status == pipeline.StepStopping
}

// callbackSteps lists the execution's callback steps. The callback message
// carries no step name; only the steps' metadata maps a token to a step.
func (c *Callbacks) callbackSteps(ctx context.Context, arn pipeline.ExecutionARN) ([]callbackStep, error) {
	var steps []callbackStep
	p := sagemaker.NewListPipelineExecutionStepsPaginator(c.sm, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn.String())})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fromSageMaker("list steps of", arn.String(), err)
		}
		for _, s := range page.PipelineExecutionSteps {
			if s.Metadata == nil || s.Metadata.Callback == nil || s.Metadata.Callback.CallbackToken == nil {
				continue
			}
			steps = append(steps, callbackStep{name: aws.ToString(s.StepName), token: aws.ToString(s.Metadata.Callback.CallbackToken), status: pipeline.StepStatus(s.StepStatus)})
		}
	}
	return steps, nil
}

// stepOf finds the callback step that holds the token.
func stepOf(steps []callbackStep, token string) (callbackStep, bool) {
	for _, s := range steps {
		if s.token == token {
			return s, true
		}
	}
	return callbackStep{}, false
}
