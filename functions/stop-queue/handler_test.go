package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// stopperFunc is a one-method fake.
type stopperFunc func(coordinator.StopMessage) (coordinator.StopResult, error)

func (f stopperFunc) StopQueued(_ context.Context, m coordinator.StopMessage) (coordinator.StopResult, error) {
	return f(m)
}

func TestBatchReportsExactlyTheFailures(t *testing.T) {
	raw, err := samples.FS.ReadFile("sqs/stop-queue-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		answer func(coordinator.StopMessage) error
		want   []string // failed message ids
	}{
		{"all stopped; the malformed one fails", func(coordinator.StopMessage) error { return nil },
			[]string{"4a7b2c3d-1e2f-4a5b-8c6d-7e8f9a0b1c2d"}},
		{"settled outcomes are done", func(coordinator.StopMessage) error {
			return &coordinator.Settled{Err: pipeline.Errorf(pipeline.EConflict, "already ended")}
		}, []string{"4a7b2c3d-1e2f-4a5b-8c6d-7e8f9a0b1c2d"}},
		{"throttled stops are retried", func(m coordinator.StopMessage) error {
			if strings.HasSuffix(m.ExecutionARN, "2") {
				return pipeline.Errorf(pipeline.EThrottled, "slow down")
			}
			return nil
		}, []string{"3f6c1a2b-0c1d-4e2f-9a3b-4c5d6e7f8a9b", "4a7b2c3d-1e2f-4a5b-8c6d-7e8f9a0b1c2d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []coordinator.StopMessage
			h := &handler{stopper: stopperFunc(func(m coordinator.StopMessage) (coordinator.StopResult, error) {
				calls = append(calls, m)
				return coordinator.StopResult{}, tt.answer(m)
			})}
			out, err := lambda.NewHandler(h.handle).Invoke(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.SQSEventResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range resp.BatchItemFailures {
				got = append(got, f.ItemIdentifier)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("failures %v, want %v", got, tt.want)
			}
			if len(calls) != 2 || calls[0].Key != "bulk-graceful" || calls[0].Mode != "graceful" {
				t.Fatalf("stops %+v, want the two well-formed messages", calls)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	_, err := loadConfig(settings.FromMap(map[string]string{"STOPCOORD_SAGEMAKER_CALLS_PER_SECOND": "0"}))
	if err == nil || !strings.Contains(err.Error(), "STOPCOORD_TABLE_NAME") || !strings.Contains(err.Error(), "STOPCOORD_SAGEMAKER_CALLS_PER_SECOND") || !strings.Contains(err.Error(), "STOPCOORD_ALLOWED_ACCOUNTS") {
		t.Fatalf("err = %v, want every problem listed", err)
	}
}
