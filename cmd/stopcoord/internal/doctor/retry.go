package doctor

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// Retrier retries an execution and updates a pipeline; *sagemaker.Client
// satisfies it. Deps.SageMaker is asked for it, so a SageMaker without
// these operations skips the retry probe rather than failing.
type Retrier interface {
	RetryPipelineExecution(ctx context.Context, in *sagemaker.RetryPipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.RetryPipelineExecutionOutput, error)
	UpdatePipeline(ctx context.Context, in *sagemaker.UpdatePipelineInput, opts ...func(*sagemaker.Options)) (*sagemaker.UpdatePipelineOutput, error)
}

var _ Retrier = (*sagemaker.Client)(nil)

// probeRetry retries the stopped stop probe (its callback step Stopped,
// its Lambda step Succeeded) and sees which steps run again, which token
// the re-run callback step carries and how the steps are listed; then it
// updates the pipeline without changing its definition and sees whether
// that records a version.
func (r *run) probeRetry(ctx context.Context, queue, pipelineName, exec, firstToken string) error {
	retrier, ok := r.deps.SageMaker.(Retrier)
	if !ok {
		return nil
	}
	out, err := retrier.UpdatePipeline(ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipelineName),
		PipelineDescription: aws.String("stopcoord doctor: throwaway pipeline, updated without a new definition")})
	switch {
	case err != nil:
		r.find(behVersion, "UpdatePipeline answered "+outcome(err), "")
	case aws.ToInt64(out.PipelineVersionId) > 1:
		r.find(behVersion, fmt.Sprintf("yes (version %d)", aws.ToInt64(out.PipelineVersionId)), "-version-on-definition-change=false (default)")
	default:
		r.find(behVersion, fmt.Sprintf("no (version %d)", aws.ToInt64(out.PipelineVersionId)), "-version-on-definition-change=true")
	}

	retriedAt := time.Now()
	if _, err := retrier.RetryPipelineExecution(ctx, &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(exec), ClientRequestToken: aws.String(token(exec, "retry"))}); err != nil {
		r.find(behRetrySteps, "RetryPipelineExecution of a Stopped execution answered "+outcome(err), "")
		return nil
	}
	r.logf("retried %s", exec)
	start, err := r.receive(ctx, queue, exec, nil)
	if err != nil {
		return err
	}
	switch {
	case start == nil:
		r.find(behRetryToken, fmt.Sprintf("not observed: no start message within %s", r.cfg.MessageWait), "")
	case start.token == firstToken:
		r.find(behRetryToken, "the first attempt's token", "-retry-keeps-callback-token=true")
	default:
		r.find(behRetryToken, "a new token", "-retry-keeps-callback-token=false (default)")
	}

	// Which steps ran again, and how they are listed, once the callback
	// step's new attempt is running.
	var listed []smtypes.PipelineExecutionStep
	for {
		steps, err := r.deps.SageMaker.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(exec)})
		if err != nil {
			return fmt.Errorf("list the steps of %s: %w", exec, err)
		}
		listed = steps.PipelineExecutionSteps
		if callbackRerunning(listed) {
			break
		}
		if time.Since(retriedAt) > r.cfg.MessageWait {
			r.find(behRetrySteps, "not observed: the callback step did not run again", "")
			return nil
		}
		if err := sleep(ctx, r.cfg.Poll/4); err != nil {
			return err
		}
	}
	lambdaAgain := false
	callbacks := 0
	for _, s := range listed {
		switch aws.ToString(s.StepName) {
		case lambdaStep:
			lambdaAgain = lambdaAgain || aws.ToInt32(s.AttemptCount) > 1 || (s.StartTime != nil && !s.StartTime.Before(retriedAt.Add(-time.Second)))
		case callbackStep:
			callbacks++
		}
	}
	if lambdaAgain {
		r.find(behRetrySteps, "every step, the succeeded Lambda step too", "-retry-reruns-all=true")
	} else {
		r.find(behRetrySteps, "the stopped callback step; the succeeded Lambda step is kept", "-retry-reruns-all=false (default)")
	}
	if callbacks > 1 {
		r.find(behRetryListing, fmt.Sprintf("every attempt (%d entries for the callback step)", callbacks), "-list-every-attempt=true")
	} else {
		r.find(behRetryListing, "the latest attempt of each step", "-list-every-attempt=false (default)")
	}
	return nil // cleanup stops the retried execution and answers its callback
}

// callbackRerunning reports whether a new attempt of the callback step is
// running.
func callbackRerunning(steps []smtypes.PipelineExecutionStep) bool {
	for _, s := range steps {
		if aws.ToString(s.StepName) == callbackStep && !stepTerminal(s.StepStatus) {
			return true
		}
	}
	return false
}
