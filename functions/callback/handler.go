package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Consumer handles one callback message; *coordinator.Callbacks satisfies it.
type Consumer interface {
	HandleCallback(ctx context.Context, d coordinator.Delivery) (coordinator.CallbackResult, error)
}

// VisibilityChanger delays a message's redelivery; *sqs.Client satisfies it.
type VisibilityChanger interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var _ VisibilityChanger = (*sqs.Client)(nil)

type handler struct {
	consumer    Consumer
	sqs         VisibilityChanger
	queueURL    string // the callback queue, for visibility changes
	concurrency int
	// reserve is kept back from the invocation's deadline, so the handler
	// always returns its partial-batch response: records still running then
	// are failed and come back, and the ones done are not redone.
	reserve time.Duration
	// backoff delays a record that failed for a transient reason.
	backoff interface {
		BackoffDelay(attempt int, err error) (time.Duration, error)
	}
}

// Handler defaults.
const (
	DefaultDeadlineReserve = 5 * time.Second
	// MaxTransientBackoff caps the delay of a record that failed for a
	// transient reason (throttling, a dependency down): far below the
	// queue's visibility timeout, which it would otherwise wait out.
	MaxTransientBackoff = 2 * time.Minute
)

// handle processes the batch's records concurrently, at most concurrency
// at a time, and reports exactly the records to retry as batch item
// failures. It never returns an error: that would retry the whole batch,
// answered tokens included.
func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	if dl, ok := ctx.Deadline(); ok && h.reserve > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-h.reserve))
		defer cancel()
	}
	failed := make([]bool, len(ev.Records))
	if len(ev.Records) == 1 || h.concurrency <= 1 {
		// Nothing to overlap: spare the goroutines.
		for i, rec := range ev.Records {
			failed[i] = !h.one(ctx, rec)
		}
		return failures(ev, failed), nil
	}
	sem := make(chan struct{}, h.concurrency)
	var wg sync.WaitGroup
	for i := range ev.Records {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			failed[i] = !h.one(ctx, ev.Records[i])
		}()
	}
	wg.Wait()
	return failures(ev, failed), nil
}

// failures reports the failed records by message id, in batch order.
func failures(ev events.SQSEvent, failed []bool) events.SQSEventResponse {
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	return resp
}

// one handles a record and reports whether it may be deleted. A panic
// fails the record, not the process; a record not started before the
// deadline reserve is failed untouched.
func (h *handler) one(ctx context.Context, rec events.SQSMessage) (ok bool) {
	log := slog.With(logging.KeyMessageID, rec.MessageId)
	if ctx.Err() != nil {
		log.WarnContext(ctx, "no time left in this invocation; SQS will redeliver the message", logging.KeyError, ctx.Err().Error())
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			log.ErrorContext(ctx, "callback message handling panicked; SQS will redeliver it", logging.KeyError, fmt.Sprint(p), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	count, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	res, err := h.consumer.HandleCallback(ctx, coordinator.Delivery{MessageID: rec.MessageId, Body: rec.Body, ReceiveCount: max(count, 1), Source: rec.EventSourceARN})
	var rejected *coordinator.RejectedError
	var retry *coordinator.RetryError
	switch {
	case err == nil:
		log.InfoContext(ctx, "callback message handled", logging.KeyExecutionARN, res.ExecutionARN, logging.KeyToken, pipeline.TokenRef(res.Token),
			logging.KeyStepName, res.StepName, "action", string(res.Action), "outcome", string(res.Outcome), "flagged", res.Flagged)
		return true
	case errors.As(err, &rejected):
		log.WarnContext(ctx, "rejected callback message; it goes to the DLQ after the redrive limit", "reason", rejected.Reason,
			"receiveCount", count, logging.KeyError, err.Error())
	case errors.As(err, &retry):
		log.InfoContext(ctx, "callback message to retry", logging.KeyToken, pipeline.TokenRef(res.Token), "retryIn", retry.After.String(), logging.KeyError, retry.Err.Error())
		h.delay(ctx, log, rec, retry.After)
	default:
		after := MaxTransientBackoff
		if h.backoff != nil {
			after, _ = h.backoff.BackoffDelay(max(count, 1), err)
		}
		log.ErrorContext(ctx, "callback message failed; SQS will redeliver it", logging.KeyExecutionARN, res.ExecutionARN, logging.KeyToken, pipeline.TokenRef(res.Token),
			"retryIn", after.String(), logging.KeyError, err.Error())
		h.delay(ctx, log, rec, after)
	}
	return false
}

// delay sets the message's visibility so its redelivery waits the backoff.
// A failed change only means an earlier retry: the message still fails.
func (h *handler) delay(ctx context.Context, log *slog.Logger, rec events.SQSMessage, after time.Duration) {
	if h.sqs == nil || h.queueURL == "" || rec.ReceiptHandle == "" {
		return
	}
	// The invocation's own deadline may have passed: the change must still go out.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_, err := h.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(h.queueURL),
		ReceiptHandle:     aws.String(rec.ReceiptHandle),
		VisibilityTimeout: int32(min(after, 12*time.Hour).Round(time.Second) / time.Second),
	})
	if err != nil {
		log.WarnContext(ctx, "delay the retry", logging.KeyError, err.Error())
	}
}
