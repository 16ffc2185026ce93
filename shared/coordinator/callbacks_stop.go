package coordinator

import (
	"context"
	"errors"
	"reflect"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// stopping handles a Stopping message: find the step's token record (or
// make it, when the start message was never seen), claim it, run the
// cleaners of its plan, and answer. The answer uses the token the message
// carries; the claim, the cleanup records and the answered mark go to the
// step's record, so both tokens SageMaker may have issued for one step are
// answered once between them.
func (c *Callbacks) stopping(ctx context.Context, d Delivery, m callback.Message) (CallbackResult, error) {
	res := CallbackResult{Token: m.Token, ExecutionARN: m.ExecutionARN.String()}
	target, err := c.correlate(ctx, m)
	if err != nil {
		return res, err
	}
	res.StepName = target.step
	if target.answered {
		res.Action = ActionDuplicate
		return res, nil
	}
	// Arguments are read again, so a plan registered by a worker alone is
	// joined by what the arguments say. A plan that cannot be read is a
	// cleanup that cannot succeed: it is answered, and flagged, at once.
	plan, planErr := callback.PlanFromArguments(m.Arguments)
	if _, _, err := c.ledger.CompleteToken(ctx, pipeline.TokenRegistration{ARN: m.ExecutionARN, Token: target.record, StepName: target.step,
		Arguments: m.Arguments, CleanupPlan: plan.Resources}); err != nil {
		return res, err
	}
	rec, err := c.claim(ctx, m.ExecutionARN, target.record, d.MessageID)
	if err != nil {
		return c.claimOutcome(res, err)
	}
	view, err := c.ledger.ReadExecution(ctx, m.ExecutionARN)
	if err != nil {
		return res, err
	}
	cc := callback.Context{Token: m.Token, ExecutionARN: m.ExecutionARN.String(), StepName: target.step, Arguments: m.Arguments, Status: callback.StatusStopping}
	failure := c.clean(ctx, m.ExecutionARN, target.record, rec.CleanupPlan, cc, view.Cleanups)
	if failure == nil && planErr != nil {
		failure = &cleanupFailure{what: "step arguments", err: planErr}
	}
	if failure != nil && planErr == nil && d.ReceiveCount < c.maxAttempts {
		after := c.backoff(d.ReceiveCount)
		c.logger(m, d).WarnContext(ctx, "cleanup failed; SQS will redeliver the Stopping message", "attempt", d.ReceiveCount, "retryIn", after.String(), "error", failure.Error())
		return res, &RetryError{After: after, Err: failure}
	}

	ap := answerPlan{reason: stopReason(view)}
	if failure != nil {
		ap.reason = withCleanupFailure(ap.reason, failure)
	} else if c.outcome != nil {
		ap.succeed, ap.outputs = c.outcome(m.ExecutionARN.Pipeline)
	}
	if err := c.answer(ctx, m.ExecutionARN, m.Token, target.record, d.MessageID, ap); err != nil {
		return res, err
	}
	res.Action, res.Outcome = ActionAnswered, ap.outcome()
	if failure != nil {
		// The answer went out so the execution can stop; the resource may
		// still run, which is what the flag is for.
		if _, err := c.ledger.FlagToken(ctx, m.ExecutionARN, target.record, "answered after cleanup failed: "+failure.Error()); err != nil {
			return res, err
		}
		res.Flagged = true
		c.logger(m, d).ErrorContext(ctx, "token answered although its cleanup failed; flagged for attention", "attempts", d.ReceiveCount, "error", failure.Error())
	}
	return res, nil
}

// target is the step record a Stopping message belongs to.
type target struct {
	record   string // the token the step's ledger record is kept under
	step     string // "" when no step could be found
	answered bool
}

// correlate finds the step a Stopping message is about. By token first:
// strongly consistent under the message's execution, then through the
// lookup index. Then by the execution: SageMaker may issue a new token for
// the Stopping message, and the start message may never have arrived.
func (c *Callbacks) correlate(ctx context.Context, m callback.Message) (target, error) {
	rec, err := c.ledger.GetToken(ctx, m.ExecutionARN, m.Token)
	if errors.Is(err, pipeline.ErrNotFound) {
		rec, err = c.ledger.FindToken(ctx, m.Token)
		if err == nil && rec.ExecutionARN != m.ExecutionARN.String() {
			err = pipeline.ErrNotFound // a token of another execution is not this one
		}
	}
	switch {
	case err == nil:
		return target{record: rec.Token, step: rec.StepName, answered: rec.State == pipeline.TokenAnswered}, nil
	case !errors.Is(err, pipeline.ErrNotFound):
		return target{}, err
	}

	steps, err := c.callbackSteps(ctx, m.ExecutionARN)
	if err != nil {
		return target{}, err
	}
	if s, ok := stepOf(steps, m.Token); ok {
		return target{record: s.token, step: s.name}, nil
	}
	var open []callbackStep
	for _, s := range steps {
		if s.open() {
			open = append(open, s)
		}
	}
	switch len(open) {
	case 0:
		// Nothing to match: keep the record under the message's own token.
		return target{record: m.Token}, nil
	case 1:
		return c.stepTarget(ctx, m.ExecutionARN, open[0])
	}
	return c.pickAmong(ctx, m, open)
}

// stepTarget is the target of one step, answered if its record says so.
func (c *Callbacks) stepTarget(ctx context.Context, arn pipeline.ExecutionARN, s callbackStep) (target, error) {
	rec, err := c.ledger.GetToken(ctx, arn, s.token)
	if err != nil && !errors.Is(err, pipeline.ErrNotFound) {
		return target{}, err
	}
	return target{record: s.token, step: s.name, answered: err == nil && rec.State == pipeline.TokenAnswered}, nil
}

// pickAmong chooses among several open callback steps: the registered,
// unanswered tokens among them, and of those the one whose arguments are
// the message's (a new Stopping token comes with the step's arguments).
// When that still leaves several or none, the message's own token keeps
// the record: cleaned from its arguments and answered, it stops its step
// whichever that is.
func (c *Callbacks) pickAmong(ctx context.Context, m callback.Message, open []callbackStep) (target, error) {
	view, err := c.ledger.ReadExecution(ctx, m.ExecutionARN)
	if err != nil {
		return target{}, err
	}
	var unanswered, same []callbackStep
	for _, t := range view.Tokens {
		s, ok := stepOf(open, t.Token)
		if !ok || t.State == pipeline.TokenAnswered {
			continue
		}
		unanswered = append(unanswered, s)
		if reflect.DeepEqual(t.Arguments, m.Arguments) || len(t.Arguments) == 0 && len(m.Arguments) == 0 {
			same = append(same, s)
		}
	}
	switch {
	case len(same) == 1:
		return target{record: same[0].token, step: same[0].name}, nil
	case len(unanswered) == 1:
		return target{record: unanswered[0].token, step: unanswered[0].name}, nil
	}
	return target{record: m.Token}, nil
}
