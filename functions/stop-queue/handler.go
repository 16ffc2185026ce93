package main

import (
	"context"
	"errors"
	"log/slog"

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
}

// handle stops each queued execution in turn (the SageMaker client spends
// from the call budget, so running them in parallel would only queue on the
// limiter) and reports the ones to retry as batch item failures.
func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, rec := range ev.Records {
		if err := h.one(ctx, rec); err != nil {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

func (h *handler) one(ctx context.Context, rec events.SQSMessage) error {
	log := slog.With(logging.KeyMessageID, rec.MessageId)
	msg, err := coordinator.ParseStopMessage(rec.Body)
	if err != nil {
		// Only stopcoord writes to this queue, so a bad message is a bug:
		// fail it, and the redrive policy parks it in the DLQ for a human.
		log.ErrorContext(ctx, "rejected stop message", logging.KeyError, err.Error())
		return err
	}
	log = log.With(logging.KeyExecutionARN, msg.ExecutionARN)
	res, err := h.stopper.StopQueued(ctx, msg)
	var settled *coordinator.Settled
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
