package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// FailFastKey is the idempotency key of a fail-fast stop: one per execution
// however many steps fail or events repeat.
const FailFastKey = "fail-fast"

// Recorded is what a status change came to.
type Recorded struct {
	// Skipped is pipeline.ErrDuplicate, ErrStale or ErrTerminal when the
	// ledger already had this change or a later one (nothing was written),
	// nil when the change was applied.
	Skipped error
	// ClosedStops are the stop requests closed because the execution ended.
	ClosedStops []string
	// FailFast is the stop a failed step started, when its policy says so.
	FailFast *StopResult
	// FailFastSettled explains a fail-fast stop that needed nothing (the
	// execution had ended, or is not one stopcoord may stop).
	FailFastSettled error
}

// RecordExecution records an execution status. When the status is
// terminal, every open stop request of the execution is closed with the
// outcome and its latency, even if the status itself was recorded before:
// a retry after a failed close must still close.
func (s *Service) RecordExecution(ctx context.Context, c pipeline.ExecutionChange) (Recorded, error) {
	rec, err := s.ledger.RecordExecutionStatus(ctx, c)
	var res Recorded
	if err != nil {
		if !skipped(err) {
			return res, err
		}
		res.Skipped = err
	}
	if !c.Status.Terminal() || !rec.Status.Terminal() {
		return res, nil
	}
	at := rec.EndedAt
	if at.IsZero() {
		at = rec.StatusAt
	}
	res.ClosedStops, err = s.closeStops(ctx, c.ARN, rec.Status, at)
	return res, err
}

// closeStops closes every stop request of the execution that is not closed.
// SageMaker's end time (at) is the close when it is not before anything
// the stop's timeline holds; events carry whole seconds, so a fast stop's
// end can read earlier than its own request, and then the close is when
// stopcoord observed the end, with SageMaker's time kept beside it. Either
// way the timeline never runs backwards.
func (s *Service) closeStops(ctx context.Context, arn pipeline.ExecutionARN, outcome pipeline.ExecutionStatus, at time.Time) ([]string, error) {
	view, err := s.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return nil, err
	}
	var closed []string
	var errs []error
	for _, stop := range view.Stops {
		if stop.Phase == pipeline.StopClosed {
			continue
		}
		last := stop.CreatedAt
		for _, e := range stop.Timeline {
			if e.At.After(last) {
				last = e.At
			}
		}
		when := at
		if when.Before(last) {
			when = s.now()
			if when.Before(last) {
				when = last // another clock ran ahead
			}
		}
		closedStop, err := s.ledger.CloseStop(ctx, arn, stop.ID, outcome, when, at)
		switch {
		case errors.Is(err, pipeline.ErrDuplicate):
		case err != nil:
			errs = append(errs, err)
			continue
		default:
			// Only the close that won tells: once per stop.
			metrics.Default().StopClosed(ctx, TriggerOf(stop), string(outcome), closedStop.ClosedAt.Sub(closedStop.CreatedAt))
			if s.observer != nil {
				s.observer.StopClosed(ctx, TriggerOf(stop), closedStop, view)
			}
		}
		closed = append(closed, stop.ID)
	}
	return closed, errors.Join(errs...)
}

// RecordStep records a step status. A running Lambda step gets its timeout
// from the pipeline definition, so the status view can say when it ends; a
// failed step stops its execution when the pipeline's policy says fail
// fast, through the same stop use case as the HTTP API, and again on every
// repeat of the event (the stop is idempotent, and a retry must finish a
// stop that failed the first time).
func (s *Service) RecordStep(ctx context.Context, c pipeline.StepChange) (Recorded, error) {
	if c.Kind == pipeline.KindLambda && !c.Status.Terminal() && c.LambdaTimeout == 0 && s.defs != nil {
		// Without the timeout the step is still worth recording: the view
		// falls back to the definition.
		if d, err := s.defs.LambdaTimeout(ctx, c.ARN, c.StepName); err == nil {
			c.LambdaTimeout = d
		}
	}
	var res Recorded
	if _, err := s.ledger.RecordStepStatus(ctx, c); err != nil {
		if !skipped(err) {
			return res, err
		}
		res.Skipped = err
	}
	if c.Status != pipeline.StepFailed || !s.failFast(c.ARN.Pipeline) {
		return res, nil
	}
	reason := fmt.Sprintf("fail-fast: step %s failed", c.StepName)
	if c.FailureReason != "" {
		reason += ": " + c.FailureReason
	}
	stop, err := s.stopper.Stop(ctx, StopInput{
		ExecutionARN: c.ARN.String(),
		Reason:       truncate(reason, pipeline.MaxReasonLength),
		Key:          FailFastKey,
		RequestedBy:  "policy fail-fast",
	})
	switch {
	case err == nil:
		res.FailFast = &stop
	case FinalStopError(err):
		// The execution ended (the usual case: SageMaker fails it once the
		// running steps end), is gone, or is not ours: retrying cannot help.
		res.FailFastSettled = err
	default:
		return res, fmt.Errorf("fail-fast stop of %s: %w", c.ARN, err)
	}
	return res, nil
}

// TriggerOf says what asked for a stop, from its key and requester: the
// Trigger dimension of the stop metrics.
func TriggerOf(s pipeline.StopRequest) string {
	switch {
	case strings.HasPrefix(s.Key, FailFastKey):
		return metrics.TriggerFailFast
	case strings.HasPrefix(s.Key, MaxRuntimeKey):
		return metrics.TriggerMaxRuntime
	case strings.HasPrefix(s.Key, "event:"):
		return metrics.TriggerEvent
	case strings.HasPrefix(s.Key, "bulk-") || strings.HasPrefix(s.RequestedBy, "eventbridge"):
		return metrics.TriggerBulk
	}
	return metrics.TriggerAPI
}

// skipped reports whether a ledger write changed nothing because the
// ledger already had the change or a later one.
func skipped(err error) bool {
	return errors.Is(err, pipeline.ErrDuplicate) || errors.Is(err, pipeline.ErrStale) || errors.Is(err, pipeline.ErrTerminal)
}
