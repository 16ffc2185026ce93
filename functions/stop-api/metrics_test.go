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

// TestCreatedStopsAreCounted: POST /stops records a StopsRequested with
// trigger api when it creates a stop, not when it joins one.
func TestCreatedStopsAreCounted(t *testing.T) {
	raw, err := samples.FS.ReadFile("apigw/stop.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		res  coordinator.StopResult
		want float64
	}{
		{"created", coordinator.StopResult{Created: true, Stop: pipeline.StopRequest{ID: "stop-1"}}, 1},
		{"joined", coordinator.StopResult{AlreadyStopping: true, Stop: pipeline.StopRequest{ID: "stop-1"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := metricstest.Capture(t)
			h := &handler{coord: &fakeCoordinator{stop: tt.res}, maxBodyBytes: DefaultMaxBodyBytes}
			if _, err := lambda.NewHandler(h.handle).Invoke(context.Background(), raw); err != nil {
				t.Fatal(err)
			}
			if got := c.Sum(metrics.StopsRequested, metrics.DimTrigger, metrics.TriggerAPI); got != tt.want {
				t.Errorf("%v api stops recorded, want %v", got, tt.want)
			}
		})
	}
}
