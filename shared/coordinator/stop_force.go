package coordinator

import (
	"context"
	"errors"
	"fmt"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// forceAnswer answers every open callback of the execution with a failure
// through the token path, without cleaning up, recording each cleanup as
// skipped. The steps come from SageMaker (a start message may never have
// reached us), the records from the ledger. It is safe to repeat: a token
// answered before is skipped, so a retry finishes what a failure left. A
// token another attempt holds is reported as pending: that attempt answers
// it within its lease.
func (s *Service) forceAnswer(ctx context.Context, arn pipeline.ExecutionARN, stop pipeline.StopRequest) (answered, pending []string, err error) {
	view, err := s.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return nil, nil, err
	}
	listed, err := listSteps(ctx, s.sm, arn)
	if err != nil {
		return nil, nil, err
	}
	var errs []error
	for _, cb := range openCallbacks(callbackSteps(listed), view.Tokens) {
		out, err := s.tokens.answer(ctx, tokenJob{
			arn: arn, record: cb.step.token, known: cb.record, step: cb.step.name,
			by: "force-stop " + stop.ID, skip: "force stop: cleanup skipped",
			decide: func(pipeline.Token, *cleanupFailure) (answerPlan, error) { return answerPlan{reason: stop.Reason}, nil },
		})
		var retry *RetryError
		switch {
		case errors.As(err, &retry):
			pending = append(pending, cb.step.token)
			continue
		case err != nil:
			errs = append(errs, err)
			continue
		case out.duplicate:
			continue
		}
		answered = append(answered, cb.step.token)
		if _, err := s.ledger.NoteStop(ctx, arn, stop.ID, s.now(), "token answered", fmt.Sprintf("%s: failure (force stop, cleanup skipped)", cb.step.name)); err != nil {
			errs = append(errs, err)
		}
	}
	return answered, pending, errors.Join(errs...)
}
