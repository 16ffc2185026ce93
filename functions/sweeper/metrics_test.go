package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/metrics/metricstest"
)

// TestSweepRecordsItsStopsAndForcedTokens: a run's max-runtime stops and
// forced tokens are EMF data points, also when the run then fails.
func TestSweepRecordsItsStopsAndForcedTokens(t *testing.T) {
	raw, err := samples.FS.ReadFile("eventbridge/scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, fail := range []bool{false, true} {
		c := metricstest.Capture(t)
		h := &handler{sweeper: sweepFunc(func() (coordinator.SweepReport, error) {
			if fail {
				return coordinator.SweepReport{Stopped: 2, Forced: 3}, context.DeadlineExceeded
			}
			return coordinator.SweepReport{Stopped: 2, Forced: 3}, nil
		})}
		_, _ = lambda.NewHandler(h.handle).Invoke(context.Background(), raw)
		if got := c.Sum(metrics.StopsRequested, metrics.DimTrigger, metrics.TriggerMaxRuntime); got != 2 {
			t.Errorf("failed run %v: %v max-runtime stops recorded, want 2", fail, got)
		}
		if got := c.Sum(metrics.TokensForced); got != 3 {
			t.Errorf("failed run %v: %v forced tokens recorded, want 3", fail, got)
		}
	}
}
