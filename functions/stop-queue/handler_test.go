package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

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
			var mu sync.Mutex
			var calls []coordinator.StopMessage
			h := &handler{concurrency: 4, stopper: stopperFunc(func(m coordinator.StopMessage) (coordinator.StopResult, error) {
				mu.Lock()
				calls = append(calls, m)
				mu.Unlock()
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

// TestBatchStopsRunSideBySide: the handler has up to its concurrency of a
// batch's stops under way at once (so one stop's ledger writes overlap
// another's wait for the call budget), never more, and still reports
// exactly the failed records, in batch order, whatever order they end in.
// A stop that panics fails its record only.
func TestBatchStopsRunSideBySide(t *testing.T) {
	const n, concurrency = 10, 4
	ev := events.SQSEvent{}
	for i := range n {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("m%d", i),
			Body:      fmt.Sprintf(`{"executionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e%d","key":"bulk","mode":"graceful"}`, i),
		})
	}
	var mu sync.Mutex
	inFlight, most := 0, 0
	full := make(chan struct{}) // closed once concurrency stops are under way together
	var once sync.Once
	h := &handler{concurrency: concurrency, stopper: stopperFunc(func(m coordinator.StopMessage) (coordinator.StopResult, error) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == concurrency {
			once.Do(func() { close(full) })
		}
		mu.Unlock()
		defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
		select {
		case <-full:
		case <-time.After(10 * time.Second): // a handler one at a time never fills up
			return coordinator.StopResult{}, fmt.Errorf("only one stop at a time")
		}
		switch {
		case strings.HasSuffix(m.ExecutionARN, "e3"), strings.HasSuffix(m.ExecutionARN, "e7"):
			return coordinator.StopResult{}, pipeline.Errorf(pipeline.EThrottled, "slow down")
		case strings.HasSuffix(m.ExecutionARN, "e5"):
			panic("bug")
		}
		return coordinator.StopResult{Created: true}, nil
	})}
	resp, err := h.handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range resp.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if strings.Join(got, ",") != "m3,m5,m7" {
		t.Fatalf("failures %v, want [m3 m5 m7]", got)
	}
	if most != concurrency {
		t.Fatalf("at most %d stops under way at once, want %d", most, concurrency)
	}
}

func TestStopsAtOnce(t *testing.T) {
	for budget, want := range map[int]int{0: 1, 1: 1, 5: 5, 10: 10, 100: 10} {
		if got := stopsAtOnce(budget); got != want {
			t.Errorf("stopsAtOnce(%d) = %d, want %d", budget, got, want)
		}
	}
}

// fixedBackoff waits no time between tries.
type fixedBackoff struct{}

func (fixedBackoff) BackoffDelay(int, error) (time.Duration, error) { return 0, nil }

// A stop that fails for a reason worth a retry is tried again within the
// invocation, so it does not wait out the queue's visibility timeout; one
// that keeps failing is still reported to SQS after the last try, and a
// settled one is never tried twice.
func TestTransientFailuresAreRetriedInTheInvocation(t *testing.T) {
	raw, err := samples.FS.ReadFile("sqs/stop-queue-batch.json")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	tries := map[string]int{}
	h := &handler{concurrency: 4, retry: &inInvocationRetry{attempts: 3, backoff: fixedBackoff{}},
		stopper: stopperFunc(func(m coordinator.StopMessage) (coordinator.StopResult, error) {
			mu.Lock()
			tries[m.ExecutionARN]++
			n := tries[m.ExecutionARN]
			mu.Unlock()
			switch {
			case strings.HasSuffix(m.ExecutionARN, "2"): // never gets through
				return coordinator.StopResult{}, pipeline.Errorf(pipeline.EThrottled, "slow down")
			case n < 3: // gets through on its third try
				return coordinator.StopResult{}, pipeline.Errorf(pipeline.EThrottled, "slow down")
			}
			return coordinator.StopResult{}, nil
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
	if want := "3f6c1a2b-0c1d-4e2f-9a3b-4c5d6e7f8a9b,4a7b2c3d-1e2f-4a5b-8c6d-7e8f9a0b1c2d"; strings.Join(got, ",") != want {
		t.Fatalf("failures %v, want the always-throttled stop and the malformed message", got)
	}
	for arn, n := range tries {
		if n != 3 {
			t.Errorf("%s tried %d times, want 3", arn, n)
		}
	}
	if len(tries) != 2 {
		t.Fatalf("tries %v, want the two well-formed messages", tries)
	}

	// No room before the deadline: one try, then the record goes back to SQS.
	tries = map[string]int{}
	h.retry = &inInvocationRetry{attempts: 3, backoff: fixedBackoff{}, reserve: time.Hour}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // Lambda's deadline
	defer cancel()
	if _, err := lambda.NewHandler(h.handle).Invoke(ctx, raw); err != nil {
		t.Fatal(err)
	}
	for arn, n := range tries {
		if n != 1 {
			t.Errorf("with no room left, %s tried %d times, want 1", arn, n)
		}
	}
}
