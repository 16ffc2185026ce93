package main

import (
	"encoding/json"
	"testing"
	"time"
)

// TestRetryExecutingIsTimedByTheEvent: after RetryPipelineExecution the
// Executing event still names the first run's start; the change is timed
// by the event, later than the end it reopens, so the ledger applies it.
func TestRetryExecutingIsTimedByTheEvent(t *testing.T) {
	start := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	detail := json.RawMessage(`{"pipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc123",
		"executionStartTime":"2026-11-25T12:00:00Z","currentPipelineExecutionStatus":"Executing","previousPipelineExecutionStatus":"Stopped"}`)
	for _, tc := range []struct {
		name     string
		envelope time.Time
		want     time.Time
	}{
		{"first run: the start orders it", start, start},
		{"retry: the event's time", start.Add(10 * time.Minute), start.Add(10 * time.Minute)},
	} {
		c, err := executionChange(detail, tc.envelope)
		if err != nil {
			t.Fatal(err)
		}
		if !c.At.Equal(tc.want) || !c.StartedAt.Equal(start) {
			t.Errorf("%s: at %v, started %v; want at %v, started %v", tc.name, c.At, c.StartedAt, tc.want, start)
		}
	}
}
