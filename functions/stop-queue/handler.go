package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/metrics"
)

// Stopper carries out one queued stop.
type Stopper interface {
	StopQueued(ctx context.Context, m coordinator.StopMessage) (coordinator.StopResult, error)
}

type handler struct {
	stopper Stopper
	// concurrency is how many of a batch's stops run at once (at least 1).
	// The SageMaker client waits for the call budget, so running stops side
	// by side does not call SageMaker faster: it lets one stop's ledger
	// writes overlap another's wait for the budget, so the budget, not the
	// ledger's round trips, sets the pace. One at a time, each stop's
	// ledger work was added to the budget's spacing.
	concurrency int
	// retry, when set, tries a stop that failed for a reason worth a retry
	// (throttling, SageMaker or the ledger failing) again within the
	// invocation, after its backoff, while the deadline leaves room. A
	// record failed back to SQS waits out the queue's visibility timeout
	// (six times the function's), which would hold a stop for minutes.
	retry *inInvocationRetry
}

// inInvocationRetry bounds the retries of one record within an invocation.
type inInvocationRetry struct {
	attempts int // tries in all, the first included
	backoff  interface {
		BackoffDelay(attempt int, err error) (time.Duration, error)
	}
	// reserve is kept back from the invocation's deadline: no retry waits
	// into it, so the batch response always goes out.
	reserve time.Duration
}

// Retry defaults for main.
const (
	retryAttempts   = 4
	maxRetryBackoff = 5 * time.Second
	deadlineReserve = 5 * time.Second
)

// again reports whether the record gets another try after attempt failed
// with err, and waits its backoff; false when the attempts are spent, the
// deadline leaves no room, or the invocation ends while it waits.
func (r *inInvocationRetry) again(ctx context.Context, attempt int, err error) bool {
	if r == nil || attempt >= r.attempts {
		return false
	}
	wait, berr := r.backoff.BackoffDelay(attempt, err)
	if berr != nil {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl)-r.reserve < wait {
		return false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stopsAtOnce is the handler's concurrency for a budget of callsPerSecond:
// a second's worth of calls waiting on the limiter (each stop makes two,
// DescribePipelineExecution and StopPipelineExecution), at most a batch.
func stopsAtOnce(callsPerSecond int) int { return min(max(callsPerSecond, 1), maxBatch) }

// maxBatch is the stop queue's batch size (infra: batchSize 10).
const maxBatch = 10

// handle stops the batch's executions, concurrency at a time, and reports
// exactly the ones to retry as batch item failures, in batch order. It
// never returns an error: that would retry the whole batch, stops already
// issued included (which would only be idempotent repeats, but cost budget).
// Two copies of one message in a batch are safe side by side: a stop is
// keyed, and the ledger's conditional writes let one of them create it.
func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, max(h.concurrency, 1))
	var wg sync.WaitGroup
	for i, rec := range ev.Records {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			failed[i] = h.one(ctx, rec) != nil
		})
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp, nil
}

// one carries out one record's stop; a panic fails the record, not the
// batch.
func (h *handler) one(ctx context.Context, rec events.SQSMessage) (err error) {
	log := slog.With(logging.KeyMessageID, rec.MessageId)
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "queued stop panicked; SQS will redeliver it", logging.KeyError, fmt.Sprint(p), "stack", string(debug.Stack()))
			err = fmt.Errorf("stop message %s panicked: %v", rec.MessageId, p)
		}
	}()
	msg, err := coordinator.ParseStopMessage(rec.Body)
	if err != nil {
		// Only stopcoord writes to this queue, so a bad message is a bug:
		// fail it, and the redrive policy parks it in the DLQ for a human.
		log.ErrorContext(ctx, "rejected stop message", logging.KeyError, err.Error())
		return err
	}
	log = log.With(logging.KeyExecutionARN, msg.ExecutionARN)
	var res coordinator.StopResult
	var settled *coordinator.Settled
	for attempt := 1; ; attempt++ {
		res, err = h.stopper.StopQueued(ctx, msg)
		if err == nil || errors.As(err, &settled) || !h.retry.again(ctx, attempt, err) {
			break
		}
		log.InfoContext(ctx, "queued stop failed; trying again in this invocation", "attempt", attempt, logging.KeyError, err.Error())
	}
	switch {
	case errors.As(err, &settled):
		log.InfoContext(ctx, "queued stop needs nothing more", "reason", settled.Err.Error())
		return nil
	case err != nil:
		log.WarnContext(ctx, "queued stop failed; SQS will redeliver it", logging.KeyError, err.Error())
		return err
	}
	if res.Created {
		metrics.Default().StopRequested(ctx, metrics.TriggerBulk, 1)
	}
	log.InfoContext(ctx, "queued stop done", logging.KeyStopID, res.Stop.ID, "alreadyStopping", res.AlreadyStopping, "created", res.Created)
	return nil
}
