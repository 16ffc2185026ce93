package cleanup

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// ExecutionStopper stops a Step Functions execution; *sfn.Client
// satisfies it.
type ExecutionStopper interface {
	StopExecution(ctx context.Context, in *sfn.StopExecutionInput, opts ...func(*sfn.Options)) (*sfn.StopExecutionOutput, error)
}

var _ ExecutionStopper = (*sfn.Client)(nil)

// SFN stops Step Functions executions (ID: the execution ARN).
type SFN struct{ Client ExecutionStopper }

// Kind implements Cleaner.
func (SFN) Kind() string { return pipeline.ResourceSFNExecution }

// Clean stops the execution with the step's stop as the cause. Stopping a
// finished execution succeeds in Step Functions; an unknown one is gone.
func (c SFN) Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error {
	_, err := c.Client.StopExecution(ctx, &sfn.StopExecutionInput{
		ExecutionArn: aws.String(r.ID),
		Error:        aws.String("stopcoord.Stopped"),
		Cause:        aws.String(cause(cc)),
	})
	if err != nil && !apiErrorIs(err, []string{"ExecutionDoesNotExist"}) {
		return err
	}
	return nil
}

// cause names what stopped a resource, for the service's own records.
func cause(cc callback.Context) string {
	s := "pipeline execution " + cc.ExecutionARN + " was stopped"
	if cc.StepName != "" {
		s += " (callback step " + cc.StepName + ")"
	}
	return s
}
