package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/metrics/metricstest"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TestQueuedStopsAreCounted: each stop request a queued message created is
// one bulk-triggered StopsRequested; joined, failed and malformed ones are not.
func TestQueuedStopsAreCounted(t *testing.T) {
	raw, err := samples.FS.ReadFile("sqs/stop-queue-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	c := metricstest.Capture(t)
	created := 0
	h := &handler{stopper: stopperFunc(func(m coordinator.StopMessage) (coordinator.StopResult, error) {
		switch {
		case strings.HasSuffix(m.ExecutionARN, "2"):
			return coordinator.StopResult{}, pipeline.Errorf(pipeline.EThrottled, "slow down")
		case created == 0:
			created++
			return coordinator.StopResult{Created: true}, nil
		}
		return coordinator.StopResult{AlreadyStopping: true}, nil // joined an existing stop
	})}
	if _, err := lambda.NewHandler(h.handle).Invoke(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if got := c.Sum(metrics.StopsRequested, metrics.DimTrigger, metrics.TriggerBulk); got != 1 {
		t.Errorf("%v bulk stops recorded, want 1 (the one created)", got)
	}
}
