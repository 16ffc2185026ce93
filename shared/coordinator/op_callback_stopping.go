package coordinator

import (
	"context"
	"errors"
	"reflect"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// stopping handles a Stopping message, top to bottom: read the execution's
// ledger once, find the step the token belongs to, then clean up and answer
// through the token path. Only a token of this execution is ever answered:
// one the ledger holds under it, or one SageMaker lists for its callback
// step. A token recorded under another execution, or one no step holds
// while no step waits, is refused: a forged message cannot make stopcoord
// answer a foreign token (and the allow-list was checked on this
// execution). When SageMaker gave the Stopping message a new token, the
// answer goes to the step's listed token and the new one is kept as an
// answered alias.
//
// DynamoDB round trips before the first cleaner runs: one, as a rule. The
// Stopping message's token is nearly always the one its start message
// registered under the execution, so it is claimed (one conditional write)
// while the execution is read (one Query). Only when the execution holds
// no record of the token does the claim wait for the read: correlate
// finds the step, and the claim creates the record and merges the plan.
func (s *Service) stopping(ctx context.Context, d Delivery, m callback.Message) (CallbackResult, error) {
	res := CallbackResult{Token: m.Token, ExecutionARN: m.ExecutionARN.String()}
	by := "callback " + d.MessageID
	fence := newFence(by)
	var (
		view    pipeline.View
		readErr error
		read    = make(chan struct{})
	)
	go func() {
		defer close(read)
		view, readErr = s.ledger.ReadExecution(ctx, m.ExecutionARN)
	}()
	early, claimErr := s.ledger.ClaimExisting(ctx, m.ExecutionARN, m.Token, fence, s.tokens.lease())
	<-read

	var tgt target
	var answered *pipeline.AlreadyAnsweredError
	var claimed *pipeline.ClaimedError
	switch {
	case claimErr == nil:
		if readErr != nil {
			return res, errors.Join(readErr, s.ledger.ReleaseToken(context.WithoutCancel(ctx), m.ExecutionARN, m.Token, fence))
		}
		tgt = target{record: m.Token, step: early.StepName, known: &early}
	case errors.As(claimErr, &answered):
		res.StepName, res.Action = early.StepName, ActionDuplicate
		return res, nil
	case errors.As(claimErr, &claimed):
		res.StepName = early.StepName
		_, err := s.tokens.claimOutcome(claimErr)
		return res, err
	default:
		// No record of the token under the execution (or the claim failed
		// for another reason): find the step the way the read allows, and
		// claim it then.
		if readErr != nil {
			return res, readErr
		}
		found, err := s.correlate(ctx, m, view)
		var refused *RejectedError
		if errors.As(err, &refused) {
			return res, s.reject(ctx, d, refused.Reason)
		}
		if err != nil {
			return res, err
		}
		if found.known != nil && found.known.State == pipeline.TokenAnswered {
			res.StepName, res.Action = found.step, ActionDuplicate
			return res, nil
		}
		tgt, early, fence = found, pipeline.Token{}, ""
	}
	res.StepName = tgt.step

	// Arguments are read again, so a plan registered by a worker alone is
	// joined by what the arguments say. A plan that cannot be read is a
	// cleanup that cannot succeed: it is answered, and flagged, at once.
	plan, planErr := callback.PlanFromArguments(m.Arguments)
	job := tokenJob{
		arn: m.ExecutionARN, record: tgt.record, known: tgt.known,
		step: tgt.step, arguments: m.Arguments, plan: plan.Resources,
		by: by, clean: true, done: view.Cleanups,
		cc: callback.Context{Token: m.Token, ExecutionARN: m.ExecutionARN.String(), StepName: tgt.step, Arguments: m.Arguments, Status: callback.StatusStopping},
	}
	if fence != "" {
		job.claimed, job.fence = &early, fence
	}
	if tgt.record != m.Token {
		job.alias = m.Token
	}
	job.decide = func(_ pipeline.Token, failure *cleanupFailure) (answerPlan, error) {
		if failure == nil && planErr != nil {
			failure = &cleanupFailure{what: "step arguments", err: planErr}
		}
		if failure != nil && !failure.refused && planErr == nil && d.ReceiveCount < s.maxAttempts {
			after := s.backoff(d.ReceiveCount)
			s.logger(m, d).WarnContext(ctx, "cleanup failed; SQS will redeliver the Stopping message", "attempt", d.ReceiveCount, "retryIn", after.String(), "error", failure.Error())
			return answerPlan{}, &RetryError{After: after, Err: failure}
		}
		ap := answerPlan{reason: stopReason(view)}
		switch {
		case failure != nil:
			// The answer goes out so the execution can stop; the resource
			// may still run, which is what the flag is for.
			ap.reason = withCleanupFailure(ap.reason, failure)
			ap.attention = "answered after cleanup failed: " + failure.Error()
			s.logger(m, d).ErrorContext(ctx, "answering although the cleanup failed; flagged for attention", "attempts", d.ReceiveCount, "error", failure.Error())
		case s.outcome != nil:
			ap.succeed, ap.outputs = s.outcome(m.ExecutionARN.Pipeline)
		}
		return ap, nil
	}
	out, err := s.tokens.answer(ctx, job)
	if err != nil {
		return res, err
	}
	res.Action, res.Outcome, res.Flagged = ActionAnswered, out.outcome, out.flagged
	if out.duplicate {
		res.Action = ActionDuplicate
	}
	return res, nil
}

// target is the step record a Stopping message belongs to.
type target struct {
	record string          // the token the step's ledger record is kept under
	step   string          // "" when no step could be found
	known  *pipeline.Token // the record, when the ledger has one
}

// correlate finds the step a Stopping message is about. By token first:
// in the execution's records, then through the lookup index. Then by the
// execution: SageMaker may issue a new token for the Stopping message, and
// the start message may never have arrived.
func (s *Service) correlate(ctx context.Context, m callback.Message, view pipeline.View) (target, error) {
	if rec := tokenIn(view.Tokens, m.Token); rec != nil {
		return recordTarget(*rec), nil
	}
	rec, err := s.ledger.FindToken(ctx, m.Token)
	switch {
	case err == nil && rec.ExecutionARN == m.ExecutionARN.String():
		return recordTarget(rec), nil
	case err == nil:
		return target{}, &RejectedError{Reason: "the token belongs to another execution than the message names"}
	case !errors.Is(err, pipeline.ErrNotFound):
		return target{}, err
	}

	listed, err := listSteps(ctx, s.sm, m.ExecutionARN)
	if err != nil {
		return target{}, err
	}
	steps := callbackSteps(listed)
	if step, ok := stepOf(steps, m.Token); ok {
		return target{record: step.token, step: step.name, known: tokenIn(view.Tokens, step.token)}, nil
	}
	var open []callbackStep
	for _, o := range openCallbacks(steps, view.Tokens) {
		open = append(open, o.step)
	}
	switch len(open) {
	case 0:
		return target{}, &RejectedError{Reason: "no callback step of the execution holds the token, and none waits for an answer"}
	case 1:
		return target{record: open[0].token, step: open[0].name, known: tokenIn(view.Tokens, open[0].token)}, nil
	}
	if t, ok := pickAmong(m, open, view); ok {
		return t, nil
	}
	// Several steps wait and nothing tells which one this token stops:
	// answering a guess could stop the wrong step. The sweeper answers
	// them after the grace period, by their listed tokens.
	return target{}, &RejectedError{Reason: "the token is not listed, and several callback steps wait: cannot tell which one it stops"}
}

// recordTarget is the target of a token record. An alias record (the
// Stopping token of a step whose record is kept under its first token)
// carries no step name and is taken as it is.
func recordTarget(rec pipeline.Token) target {
	r := rec
	return target{record: rec.Token, step: rec.StepName, known: &r}
}

// pickAmong chooses among several open callback steps: the registered,
// unanswered tokens among them, and of those the one whose arguments are
// the message's (a new Stopping token comes with the step's arguments).
// It reports false when that still leaves several or none.
func pickAmong(m callback.Message, open []callbackStep, view pipeline.View) (target, bool) {
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
	pick := func(s callbackStep) target {
		return target{record: s.token, step: s.name, known: tokenIn(view.Tokens, s.token)}
	}
	switch {
	case len(same) == 1:
		return pick(same[0]), true
	case len(unanswered) == 1:
		return pick(unanswered[0]), true
	}
	return target{}, false
}
