package coordinator

import (
	"context"
	"fmt"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// sweeperBy names the sweeper as the one who answered.
const sweeperBy = "sweeper"

// CleanupAndAnswer is the sweeper's way to unblock a callback step whose
// Stopping message never led to an answer, through the same token path as
// the Stopping message: clean up again and answer (force=false; a cleanup
// that still fails is returned, and the token stays open for the force
// deadline), or answer with a failure at once, recording the cleanup as
// skipped (force=true). token is the step's token as SageMaker lists it.
func (s *Service) CleanupAndAnswer(ctx context.Context, arn pipeline.ExecutionARN, token string, force bool, reason string) error {
	view, err := s.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return err
	}
	known := tokenIn(view.Tokens, token)
	if known != nil && known.State == pipeline.TokenAnswered {
		return nil
	}
	if reason == "" {
		reason = DefaultReason
	}
	job := tokenJob{arn: arn, record: token, known: known, by: sweeperBy, done: view.Cleanups}
	if force {
		job.skip = "force deadline passed: answered without cleaning up"
		job.decide = func(pipeline.Token, *cleanupFailure) (answerPlan, error) { return answerPlan{reason: reason}, nil }
	} else {
		job.clean = true
		job.decide = func(rec pipeline.Token, failure *cleanupFailure) (answerPlan, error) {
			if failure != nil && !failure.refused {
				return answerPlan{}, fmt.Errorf("clean up callback token %s again: %w", pipeline.TokenRef(token), failure)
			}
			ap := answerPlan{reason: reason}
			if failure != nil {
				ap.reason = withCleanupFailure(reason, failure)
				ap.attention = "answered with a resource outside the cleanup scope: " + failure.Error()
				return ap, nil
			}
			if s.outcome != nil {
				ap.succeed, ap.outputs = s.outcome(arn.Pipeline)
			}
			return ap, nil
		}
	}
	if known != nil {
		job.step = known.StepName
	}
	_, err = s.tokens.answer(ctx, job)
	return err
}
