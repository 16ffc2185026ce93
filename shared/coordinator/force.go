package coordinator

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// openCallback is a callback step still waiting for its answer.
type openCallback struct {
	step, token string
	plan        []pipeline.Resource
}

// forceAnswer answers every open callback token of the execution with a
// failure, without cleaning up, and records each cleanup as skipped. The
// tokens come from SageMaker (a start message may never have reached us)
// and from the ledger (for the cleanup plan).
func (c *Coordinator) forceAnswer(ctx context.Context, arn pipeline.ExecutionARN, stop pipeline.StopRequest) ([]string, error) {
	open, err := c.openCallbacks(ctx, arn)
	if err != nil {
		return nil, err
	}
	var answered []string
	var errs []error
	for _, cb := range open {
		if err := c.failToken(ctx, arn, stop, cb); err != nil {
			errs = append(errs, err)
			continue
		}
		answered = append(answered, cb.token)
	}
	return answered, errors.Join(errs...)
}

// openCallbacks lists the callback steps that are not finished, with the
// tokens SageMaker holds for them and any plan the ledger recorded.
func (c *Coordinator) openCallbacks(ctx context.Context, arn pipeline.ExecutionARN) ([]openCallback, error) {
	view, err := c.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return nil, err
	}
	plans := map[string]pipeline.Token{}
	for _, t := range view.Tokens {
		plans[t.Token] = t
	}
	var open []openCallback
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
			if pipeline.StepStatus(s.StepStatus).Terminal() {
				continue
			}
			token := aws.ToString(s.Metadata.Callback.CallbackToken)
			if t, ok := plans[token]; ok && t.State == pipeline.TokenAnswered {
				continue
			}
			open = append(open, openCallback{step: aws.ToString(s.StepName), token: token, plan: plans[token].CleanupPlan})
		}
	}
	return open, nil
}

// failToken answers one token with the stop reason and records it. An
// answer SageMaker no longer wants (already answered, step gone) counts as
// done; the ledger keeps whoever answered first.
func (c *Coordinator) failToken(ctx context.Context, arn pipeline.ExecutionARN, stop pipeline.StopRequest, cb openCallback) error {
	_, err := c.sm.SendPipelineExecutionStepFailure(ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
		CallbackToken:      aws.String(cb.token),
		FailureReason:      aws.String(truncate(stop.Reason, pipeline.MaxReasonLength)),
		ClientRequestToken: aws.String(pipeline.RequestToken("step-failure", cb.token)),
	})
	if err != nil && !alreadyAnswered(err) {
		return fromSageMaker("send step failure for", cb.token, err)
	}
	// Register first (a no-op when the callback consumer did), so the token
	// has a record to mark.
	if _, err := c.ledger.RegisterToken(ctx, pipeline.TokenRegistration{ARN: arn, Token: cb.token, StepName: cb.step, CleanupPlan: cb.plan}); err != nil && !errors.Is(err, pipeline.ErrDuplicate) {
		return err
	}
	by := "force-stop " + stop.ID
	_, err = c.ledger.MarkAnswered(ctx, arn, cb.token, pipeline.Answer{By: by, Outcome: pipeline.OutcomeFailure, Reason: stop.Reason})
	var already *pipeline.AlreadyAnsweredError
	if err != nil && !errors.As(err, &already) {
		return err
	}
	now := c.now()
	skipped := cb.plan
	if len(skipped) == 0 {
		// Nothing was registered to clean: record that the step's cleanup
		// was skipped, so the view shows a decision rather than a gap.
		skipped = []pipeline.Resource{{Kind: "step", ID: cb.step}}
	}
	for _, r := range skipped {
		if _, err := c.ledger.RecordCleanup(ctx, pipeline.CleanupResult{ARN: arn, Token: cb.token, Resource: r, Status: pipeline.CleanupSkipped, Error: "force stop: cleanup skipped", At: now}); err != nil {
			return err
		}
	}
	if _, err := c.ledger.NoteStop(ctx, arn, stop.ID, now, "token answered", fmt.Sprintf("%s: failure (force stop, cleanup skipped)", cb.step)); err != nil {
		return err
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
