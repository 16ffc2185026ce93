package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/metrics"
)

// Sweeper runs one bounded sweeper pass; *coordinator.Service satisfies it.
type Sweeper interface {
	Sweep(ctx context.Context) (coordinator.SweepReport, error)
}

type handler struct {
	sweeper Sweeper
}

// handle runs one sweep per scheduled event. The event carries nothing the
// sweep needs (the continuation is in the ledger), so any event starts a
// run. The report is the function's result, and logged, so each run's work
// and budget can be read from the logs. A run that could not list or save
// its continuation is an error; the next scheduled run tries again.
func (h *handler) handle(ctx context.Context, ev events.EventBridgeEvent) (coordinator.SweepReport, error) {
	report, err := h.sweeper.Sweep(ctx)
	// What the run did counts even when it then failed.
	metrics.Default().StopRequested(ctx, metrics.TriggerMaxRuntime, report.Stopped)
	metrics.Default().TokensForced(ctx, report.Forced)
	log := slog.With("eventId", ev.ID, "executions", report.Executions, "calls", report.Calls, "reconciled", report.Reconciled,
		"stopped", report.Stopped, "cleaned", report.Cleaned, "forced", report.Forced, "errors", report.Errors,
		"passComplete", report.PassComplete, "resumed", report.Resumed)
	if err != nil {
		log.ErrorContext(ctx, "sweep failed", logging.KeyError, err.Error())
		return report, fmt.Errorf("sweep: %w", err)
	}
	log.InfoContext(ctx, "sweep done")
	return report, nil
}
