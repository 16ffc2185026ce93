package main

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Recorder records status changes (coordinator.Status).
type Recorder interface {
	RecordExecution(ctx context.Context, c pipeline.ExecutionChange) (coordinator.Recorded, error)
	RecordStep(ctx context.Context, c pipeline.StepChange) (coordinator.Recorded, error)
}

// Stopper stops one execution or every running execution of a pipeline
// (coordinator.Coordinator), the same use case as the HTTP API.
type Stopper interface {
	Stop(ctx context.Context, in coordinator.StopInput) (coordinator.StopResult, error)
	BulkStop(ctx context.Context, in coordinator.BulkStopInput) (coordinator.BulkStopResult, error)
}

type handler struct {
	status Recorder
	stops  Stopper
	// access is what stopcoord may act on: status events of other
	// pipelines are not recorded (the sweeper would only sweep what it may
	// not touch), and Stop Requested events count only from its accounts.
	access pipeline.AllowList
	// ignored counts the events of pipelines outside the allow-list.
	ignored atomic.Int64
}

// handle takes one EventBridge event. Events it does not know are logged
// and ignored: a rule that sends more than this function needs is not a
// failure. A malformed event of a known kind, or a ledger or SageMaker
// failure, is returned as an error, so EventBridge retries it and, after
// its retries, parks it in the target's dead-letter queue for a human.
// Changes the ledger already has (duplicates, late events) are successes.
func (h *handler) handle(ctx context.Context, ev events.EventBridgeEvent) error {
	log := slog.With("eventId", ev.ID, "detailType", ev.DetailType)
	switch {
	case ev.Source == sourceSageMaker && ev.DetailType == detailExecution:
		return h.execution(ctx, log, ev)
	case ev.Source == sourceSageMaker && ev.DetailType == detailStep:
		return h.step(ctx, log, ev)
	case ev.Source == sourceStopcoord && ev.DetailType == detailStopRequested:
		return h.stopRequested(ctx, log, ev)
	}
	log.InfoContext(ctx, "ignored an event this function does not handle", "source", ev.Source)
	return nil
}

func (h *handler) execution(ctx context.Context, log *slog.Logger, ev events.EventBridgeEvent) error {
	c, err := executionChange(ev.Detail, ev.Time)
	if err != nil {
		log.ErrorContext(ctx, "rejected execution status event", logging.KeyError, err.Error())
		return err
	}
	log = log.With(logging.KeyExecutionARN, c.ARN.String(), "status", string(c.Status))
	if h.outside(ctx, log, c.ARN) {
		return nil
	}
	res, err := h.status.RecordExecution(ctx, c)
	if err != nil {
		log.ErrorContext(ctx, "record execution status failed; EventBridge will retry", logging.KeyError, err.Error())
		return fmt.Errorf("record execution status of %s: %w", c.ARN, err)
	}
	logRecorded(ctx, log, res)
	if len(res.ClosedStops) > 0 {
		log.InfoContext(ctx, "closed stop requests", "stopIds", res.ClosedStops)
	}
	return nil
}

func (h *handler) step(ctx context.Context, log *slog.Logger, ev events.EventBridgeEvent) error {
	c, err := stepChange(ev.Detail, ev.Time)
	if err != nil {
		log.ErrorContext(ctx, "rejected step status event", logging.KeyError, err.Error())
		return err
	}
	log = log.With(logging.KeyExecutionARN, c.ARN.String(), logging.KeyStepName, c.StepName, "status", string(c.Status))
	if h.outside(ctx, log, c.ARN) {
		return nil
	}
	res, err := h.status.RecordStep(ctx, c)
	if err != nil {
		log.ErrorContext(ctx, "record step status failed; EventBridge will retry", logging.KeyError, err.Error())
		return fmt.Errorf("record step status of %s step %s: %w", c.ARN, c.StepName, err)
	}
	logRecorded(ctx, log, res)
	switch {
	case res.FailFast != nil:
		if res.FailFast.Created {
			metrics.Default().StopRequested(ctx, metrics.TriggerFailFast, 1)
		}
		log.InfoContext(ctx, "fail-fast policy stopped the execution", logging.KeyStopID, res.FailFast.Stop.ID, "alreadyStopping", res.FailFast.AlreadyStopping)
	case res.FailFastSettled != nil:
		log.InfoContext(ctx, "fail-fast stop needed nothing", "reason", res.FailFastSettled.Error())
	}
	return nil
}

// outside reports, and logs, an event of an execution stopcoord may not act
// on: it is ignored and counted, not recorded.
func (h *handler) outside(ctx context.Context, log *slog.Logger, arn pipeline.ExecutionARN) bool {
	if err := h.access.Check(arn); err != nil {
		log.InfoContext(ctx, "ignored the status event of an execution outside the allow-list", "ignoredSoFar", h.ignored.Add(1), "reason", pipeline.Message(err))
		return true
	}
	return false
}

func logRecorded(ctx context.Context, log *slog.Logger, res coordinator.Recorded) {
	if res.Skipped != nil {
		log.DebugContext(ctx, "ledger already had this change", "outcome", res.Skipped.Error())
		return
	}
	log.DebugContext(ctx, "status recorded")
}

// stopRequested stops what a Stop Requested event names. The event id is
// the idempotency key, so EventBridge's retries of one event stop once.
func (h *handler) stopRequested(ctx context.Context, log *slog.Logger, ev events.EventBridgeEvent) error {
	d, err := parseStopDetail(ev.Detail)
	if err == nil && ev.ID == "" {
		err = pipeline.Errorf(pipeline.EInvalid, "Stop Requested event has no id to make the stop idempotent")
	}
	if err != nil {
		log.ErrorContext(ctx, "rejected Stop Requested event", logging.KeyError, err.Error())
		return err
	}
	if !slices.Contains(h.access.Accounts, ev.AccountID) {
		// The rule and the bus policy admit only stopcoord's accounts; an
		// event from elsewhere is ignored, never retried.
		log.WarnContext(ctx, "ignored a Stop Requested event from an account stopcoord does not serve", "account", ev.AccountID, "source", ev.Source)
		return nil
	}
	key := "event:" + ev.ID
	// Who asked, as EventBridge saw it: the sending account and the
	// principal's resources the event names, if any.
	by := fmt.Sprintf("eventbridge %s account %s event %s", ev.Source, ev.AccountID, ev.ID)
	if len(ev.Resources) > 0 {
		by += " resources " + strings.Join(ev.Resources, ",")
	}
	if d.PipelineName != "" {
		log = log.With("pipelineName", d.PipelineName)
		res, err := h.stops.BulkStop(ctx, coordinator.BulkStopInput{PipelineName: d.PipelineName, Reason: d.Reason, Mode: d.Mode, Key: key, RequestedBy: by})
		if err != nil {
			return settle(ctx, log, "bulk stop", err)
		}
		log.InfoContext(ctx, "queued stops of every running execution", "count", len(res.Executions))
		return nil
	}
	log = log.With(logging.KeyExecutionARN, d.ExecutionARN)
	res, err := h.stops.Stop(ctx, coordinator.StopInput{ExecutionARN: d.ExecutionARN, Reason: d.Reason, Mode: d.Mode, Key: key, RequestedBy: by})
	if err != nil {
		return settle(ctx, log, "stop", err)
	}
	if res.Created {
		metrics.Default().StopRequested(ctx, metrics.TriggerEvent, 1)
	}
	log.InfoContext(ctx, "stop requested by event", logging.KeyStopID, res.Stop.ID, "created", res.Created, "alreadyStopping", res.AlreadyStopping)
	return nil
}

// settle decides what a failed stop returns. A stop of an execution that
// has ended, does not exist or is not one stopcoord may stop needs nothing
// more and would fail the same way every time: logged, not retried. An
// invalid request (a bad ARN or mode in a rule's input) is returned like a
// malformed event, so it ends in the dead-letter queue where someone sees
// it; throttling and outages are returned to be retried.
func settle(ctx context.Context, log *slog.Logger, action string, err error) error {
	switch pipeline.Code(err) {
	case pipeline.EUnauthorized, pipeline.ENotFound, pipeline.EConflict:
		log.WarnContext(ctx, action+" refused; not retried", "code", pipeline.Code(err), logging.KeyError, err.Error())
		return nil
	}
	log.ErrorContext(ctx, action+" failed; EventBridge will retry", logging.KeyError, err.Error())
	return fmt.Errorf("%s requested by event: %w", action, err)
}
