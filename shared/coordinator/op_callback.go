package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Delivery is one delivery of a callback message from the queue.
type Delivery struct {
	// MessageID names the message; copies of one message share it, so it
	// is never what tells two deliveries apart.
	MessageID string
	Body      string
	// ReceiveCount is SQS's ApproximateReceiveCount: 1 on the first
	// delivery. It counts cleanup attempts.
	ReceiveCount int
	Source       string // the queue ARN, kept with rejections
}

// CallbackAction says what handling a delivery did.
type CallbackAction string

const (
	ActionRegistered CallbackAction = "registered" // token recorded, work handed to the worker
	ActionAnswered   CallbackAction = "answered"   // token answered (after cleanup on a stop)
	ActionDuplicate  CallbackAction = "duplicate"  // token answered before: nothing to do
)

// CallbackResult is what handling a delivery did.
type CallbackResult struct {
	Action       CallbackAction
	Token        string // the token the message carried
	ExecutionARN string
	StepName     string
	Outcome      pipeline.Outcome // of an answer
	// Flagged is set when the token was answered although its cleanup
	// failed: the ledger marks it for attention.
	Flagged bool
}

// RejectedError is a message that cannot be acted on, ever: it is recorded
// with the reason and left for the queue's redrive policy to park in the
// dead-letter queue.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "rejected callback message: " + e.Reason }

// RetryError asks for the message to come back after a delay: a cleanup
// attempt failed, or another delivery holds the token.
type RetryError struct {
	After time.Duration
	Err   error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("retry in %s: %v", e.After, e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }

// HandleCallback handles one delivery of a callback message. A nil error
// means the message is done with and may be deleted; *RejectedError and
// *RetryError say why not, and any other error is a failure SQS should
// redeliver.
func (s *Service) HandleCallback(ctx context.Context, d Delivery) (CallbackResult, error) {
	m, err := callback.Parse(d.Body)
	if err == nil {
		err = s.access.Check(m.ExecutionARN)
	}
	if err != nil {
		return CallbackResult{}, s.reject(ctx, d, pipeline.Message(err))
	}
	if m.Status == callback.StatusStopping {
		return s.stopping(ctx, d, m)
	}
	return s.executing(ctx, d, m)
}

// reject records a message that cannot be acted on. If even the record
// fails, the message is still failed, so it is retried and never lost.
func (s *Service) reject(ctx context.Context, d Delivery, reason string) error {
	rej := &RejectedError{Reason: reason}
	err := s.ledger.RecordRejection(ctx, pipeline.Rejection{MessageID: d.MessageID, Source: d.Source, Reason: reason,
		Excerpt: pipeline.Excerpt(d.Body), ReceiveCount: d.ReceiveCount, At: s.now()})
	if err != nil {
		return errors.Join(rej, fmt.Errorf("record rejection of message %s: %w", d.MessageID, err))
	}
	return rej
}

// backoff is the delay before the next cleanup attempt after the given
// one: RetryBase × 2^attempt, capped.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.retryBase
	for range min(max(attempt, 1), 20) {
		d *= 2
		if d >= MaxRetryDelay {
			return MaxRetryDelay
		}
	}
	return d
}

func (s *Service) logger(m callback.Message, d Delivery) *slog.Logger {
	return slog.With(logging.KeyMessageID, d.MessageID, logging.KeyExecutionARN, m.ExecutionARN.String(), logging.KeyToken, pipeline.TokenRef(m.Token))
}
