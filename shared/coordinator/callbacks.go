package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// CallbackLedger is the ledger as the callback consumer uses it;
// *ledger.Ledger satisfies it.
type CallbackLedger interface {
	TokenLedger
	FindToken(ctx context.Context, token string) (pipeline.Token, error)
	ReadExecution(ctx context.Context, arn pipeline.ExecutionARN) (pipeline.View, error)
	RecordRejection(ctx context.Context, r pipeline.Rejection) error
}

// CallbackSageMaker is every SageMaker call the callback consumer makes;
// *sagemaker.Client satisfies it.
type CallbackSageMaker = TokenSageMaker

// FunctionInvoker invokes a Lambda function; *lambda.Client satisfies it.
type FunctionInvoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ FunctionInvoker = (*lambda.Client)(nil)

// WorkSender puts a callback context on a worker's queue; *sqs.Client
// satisfies it.
type WorkSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var _ WorkSender = (*sqs.Client)(nil)

// Cleaner stops one resource a callback step started; a cleanup.Set
// satisfies it, choosing the cleaner by the resource's kind.
type Cleaner interface {
	Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error
}

// StopOutcome says how a stopped pipeline's callback steps are answered:
// succeed with the outputs, or fail (the default, and what a nil
// StopOutcome means).
type StopOutcome func(pipelineName string) (succeed bool, outputs map[string]string)

// Callback consumer defaults.
const (
	DefaultCleanupMaxAttempts = 3
	DefaultCleanerTimeout     = 30 * time.Second
	DefaultRetryBase          = time.Second
	// MaxRetryDelay caps the backoff between cleanup attempts.
	MaxRetryDelay = 5 * time.Minute
)

// CallbackDeps are the callback consumer's collaborators and settings.
type CallbackDeps struct {
	Ledger    CallbackLedger
	SageMaker CallbackSageMaker
	Lambda    FunctionInvoker // hands work to Lambda workers
	Queue     WorkSender      // hands work to queue workers
	Cleaner   Cleaner
	Access    pipeline.AllowList
	// Scope is what the cleaners and the worker hand-off may act on; the
	// zero scope allows nothing.
	Scope   pipeline.CleanupScope
	Outcome StopOutcome
	// MaxAttempts is how many deliveries of a Stopping message may try a
	// failing cleanup before the token is answered anyway.
	MaxAttempts int
	// CleanerTimeout bounds each cleaner's attempt.
	CleanerTimeout time.Duration
	// RetryBase scales the backoff between attempts: RetryBase × 2^attempt.
	RetryBase time.Duration
	Clock     func() time.Time
}

// Callbacks is the callback consumer's use case: it registers callback
// steps and hands their work to workers, and on a stop cleans up and
// answers each token exactly once.
type Callbacks struct {
	ledger      CallbackLedger
	sm          CallbackSageMaker
	tokens      *tokenPath
	lambda      FunctionInvoker
	queue       WorkSender
	access      pipeline.AllowList
	scope       pipeline.CleanupScope
	outcome     StopOutcome
	maxAttempts int
	retryBase   time.Duration
	now         func() time.Time
}

// NewCallbacks returns the callback use case, with defaults for the
// settings left zero.
func NewCallbacks(d CallbackDeps) *Callbacks {
	c := &Callbacks{ledger: d.Ledger, sm: d.SageMaker, lambda: d.Lambda, queue: d.Queue, access: d.Access, scope: d.Scope,
		outcome: d.Outcome, maxAttempts: d.MaxAttempts, retryBase: d.RetryBase, now: d.Clock}
	if c.maxAttempts <= 0 {
		c.maxAttempts = DefaultCleanupMaxAttempts
	}
	if d.CleanerTimeout <= 0 {
		d.CleanerTimeout = DefaultCleanerTimeout
	}
	if c.retryBase <= 0 {
		c.retryBase = DefaultRetryBase
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.tokens = &tokenPath{ledger: d.Ledger, sm: d.SageMaker, cleaner: d.Cleaner, scope: d.Scope, cleanerTimeout: d.CleanerTimeout, now: c.now}
	return c
}

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
func (c *Callbacks) HandleCallback(ctx context.Context, d Delivery) (CallbackResult, error) {
	m, err := callback.Parse(d.Body)
	if err == nil {
		err = c.access.Check(m.ExecutionARN)
	}
	if err != nil {
		return CallbackResult{}, c.reject(ctx, d, pipeline.Message(err))
	}
	if m.Status == callback.StatusStopping {
		return c.stopping(ctx, d, m)
	}
	return c.executing(ctx, d, m)
}

// reject records a message that cannot be acted on. If even the record
// fails, the message is still failed, so it is retried and never lost.
func (c *Callbacks) reject(ctx context.Context, d Delivery, reason string) error {
	rej := &RejectedError{Reason: reason}
	err := c.ledger.RecordRejection(ctx, pipeline.Rejection{MessageID: d.MessageID, Source: d.Source, Reason: reason,
		Excerpt: pipeline.Excerpt(d.Body), ReceiveCount: d.ReceiveCount, At: c.now()})
	if err != nil {
		return errors.Join(rej, fmt.Errorf("record rejection of message %s: %w", d.MessageID, err))
	}
	return rej
}

// backoff is the delay before the next cleanup attempt after the given
// one: RetryBase × 2^attempt, capped.
func (c *Callbacks) backoff(attempt int) time.Duration {
	d := c.retryBase
	for range min(max(attempt, 1), 20) {
		d *= 2
		if d >= MaxRetryDelay {
			return MaxRetryDelay
		}
	}
	return d
}

func (c *Callbacks) logger(m callback.Message, d Delivery) *slog.Logger {
	return slog.With(logging.KeyMessageID, d.MessageID, logging.KeyExecutionARN, m.ExecutionARN.String(), logging.KeyToken, pipeline.TokenRef(m.Token))
}
