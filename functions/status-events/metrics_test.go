package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/metrics/metricstest"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// creating answers every stop and fail-fast with a newly created request.
type creating struct{ fakes }

func (f *creating) RecordStep(ctx context.Context, c pipeline.StepChange) (coordinator.Recorded, error) {
	_, _ = f.fakes.RecordStep(ctx, c)
	return coordinator.Recorded{FailFast: &coordinator.StopResult{Created: true}}, nil
}

func (f *creating) Stop(ctx context.Context, in coordinator.StopInput) (coordinator.StopResult, error) {
	_, _ = f.fakes.Stop(ctx, in)
	return coordinator.StopResult{Created: true}, nil
}

// TestStopsAreCountedByTrigger: a Stop Requested event and a fail-fast
// policy each record one StopsRequested with their trigger.
func TestStopsAreCountedByTrigger(t *testing.T) {
	tests := []struct{ sample, trigger string }{
		{"stop-requested-execution.json", metrics.TriggerEvent},
		{"step-failed.json", metrics.TriggerFailFast},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			c := metricstest.Capture(t)
			raw, err := samples.FS.ReadFile("eventbridge/" + tt.sample)
			if err != nil {
				t.Fatal(err)
			}
			f := &creating{}
			h := newTestHandler(&f.fakes)
			h.status, h.stops = f, f
			if _, err := lambda.NewHandler(h.handle).Invoke(context.Background(), raw); err != nil {
				t.Fatal(err)
			}
			if got := c.Sum(metrics.StopsRequested, metrics.DimTrigger, tt.trigger); got != 1 {
				t.Errorf("%v stops recorded with trigger %s, want 1", got, tt.trigger)
			}
		})
	}
}
