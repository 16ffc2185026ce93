package coordinator

import (
	"context"
	"errors"
	"fmt"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// sweeperClaimant claims tokens the sweeper answers.
const sweeperClaimant = "sweeper"

// CleanupAndAnswer is the sweeper's way to unblock a callback step whose
// Stopping message never led to an answer: clean up again and answer
// (force=false; a cleanup that still fails is returned, and the token stays
// open for the force deadline), or answer with a failure at once, recording
// the cleanup as skipped (force=true). token is the step's token as
// SageMaker lists it; the exactly-once rules are the callback consumer's.
func (c *Callbacks) CleanupAndAnswer(ctx context.Context, arn pipeline.ExecutionARN, token string, force bool, reason string) error {
	rec, _, err := c.ledger.CompleteToken(ctx, pipeline.TokenRegistration{ARN: arn, Token: token})
	if err != nil {
		return err
	}
	if rec.State == pipeline.TokenAnswered {
		return nil
	}
	if rec, err = c.claim(ctx, arn, token, sweeperClaimant); err != nil {
		var answered *pipeline.AlreadyAnsweredError
		if errors.As(err, &answered) {
			return nil
		}
		return err
	}
	if reason == "" {
		reason = DefaultReason
	}
	if force {
		now := c.now()
		for _, r := range rec.CleanupPlan {
			if _, err := c.ledger.RecordCleanup(ctx, pipeline.CleanupResult{ARN: arn, Token: token, Resource: r, Status: pipeline.CleanupSkipped,
				Error: "force deadline passed: answered without cleaning up", At: now}); err != nil {
				return err
			}
		}
		return c.answer(ctx, arn, token, token, sweeperClaimant, answerPlan{reason: reason})
	}
	view, err := c.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return err
	}
	cc := callback.Context{Token: token, ExecutionARN: arn.String(), StepName: rec.StepName, Arguments: rec.Arguments, Status: callback.StatusStopping}
	if failure := c.clean(ctx, arn, token, rec.CleanupPlan, cc, view.Cleanups); failure != nil {
		return fmt.Errorf("clean up callback token %s again: %w", token, failure)
	}
	ap := answerPlan{reason: reason}
	if c.outcome != nil {
		ap.succeed, ap.outputs = c.outcome(arn.Pipeline)
	}
	return c.answer(ctx, arn, token, token, sweeperClaimant, ap)
}
