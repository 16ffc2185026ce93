package coordinator

import (
	"context"
	"log/slog"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
)

// Service is stopcoord's use cases, one method per operation, the way an
// AWS SDK client has one method per call. Each function's main builds one
// with the collaborators its operations need:
//
//	stop-api       Stop, BulkStop, ViewExecution, ViewExecutionRun, ViewStop,
//	               StuckStops, RegisterResources
//	stop-queue     StopQueued
//	callback       HandleCallback
//	status-events  RecordExecution, RecordStep, Stop
//	sweeper        Sweep
//
// Every operation that answers a callback token goes through the one token
// path (tokens.go), and every one that reads an execution's steps through
// the one step reader (steps.go).
type Service struct {
	ledger       Ledger
	sm           SageMaker
	sqs          SQS
	stopQueueURL string
	workers      WorkerStarter
	access       pipeline.AllowList
	scope        pipeline.CleanupScope
	policies     Policies
	outcome      StopOutcome
	defs         *Definitions
	observer     StopObserver
	maxAttempts  int
	retryBase    time.Duration
	limits       SweepLimits
	now          func() time.Time
	log          *slog.Logger
	tokens       *tokenPath

	// stopper and answerer are how status events and the sweeper start a
	// stop and unblock a token: the service itself, replaced only by the
	// package's tests to watch what would be started.
	stopper  stopStarter
	answerer tokenUnblocker
}

// stopStarter starts a stop; the Service is one.
type stopStarter interface {
	Stop(ctx context.Context, in StopInput) (StopResult, error)
}

// tokenUnblocker cleans up and answers a callback token the sweeper found
// waiting; the Service is one.
type tokenUnblocker interface {
	CleanupAndAnswer(ctx context.Context, arn pipeline.ExecutionARN, token string, force bool, reason string) error
}

// Deps are the service's collaborators and settings. Ledger, SageMaker and
// Access are needed by every operation; the rest only by the operations
// named, which fail with a clear error when theirs is missing.
type Deps struct {
	Ledger    Ledger
	SageMaker SageMaker
	Access    pipeline.AllowList

	// SQS sends bulk stops to StopQueueURL and hands callback work to
	// worker queues.
	SQS          SQS
	StopQueueURL string
	// Workers starts the Lambda workers a callback step's arguments name.
	Workers WorkerStarter
	// Cleaner stops what callback steps started, within Scope; the zero
	// scope allows nothing.
	Cleaner Cleaner
	Scope   pipeline.CleanupScope
	// Policies give each pipeline its grace period, maximum runtime and
	// fail-fast; nil gives every pipeline the zero policy.
	Policies Policies
	// Outcome says how a stopped pipeline's callback steps are answered;
	// nil answers with a failure.
	Outcome StopOutcome
	// Definitions gives Lambda steps their timeout when their status is
	// recorded; nil reads it through SageMaker, cached for an hour.
	Definitions *Definitions
	// Observer hears of every stop a recorded status closes, once per stop
	// (the Stop Completed event); nil tells no one.
	Observer StopObserver

	// MaxAttempts is how many deliveries of a Stopping message may try a
	// failing cleanup before the token is answered anyway.
	MaxAttempts int
	// CleanerTimeout bounds each cleaner's attempt, for the callback
	// consumer and the sweeper alike.
	CleanerTimeout time.Duration
	// RetryBase scales the backoff between attempts: RetryBase × 2^attempt.
	RetryBase time.Duration
	// SweepLimits bound one sweeper run.
	SweepLimits SweepLimits

	Clock  func() time.Time
	Logger *slog.Logger
}

// Defaults for the settings left zero.
const (
	DefaultCleanupMaxAttempts = 3
	DefaultCleanerTimeout     = 30 * time.Second
	DefaultRetryBase          = time.Second
	// MaxRetryDelay caps the backoff between cleanup attempts.
	MaxRetryDelay = 5 * time.Minute
	// DefaultLambdaTimeout is a Lambda step's timeout when the definition
	// does not give one (SageMaker's default).
	DefaultLambdaTimeout = 120 * time.Second
	// DefaultDefinitionTTL is how long an execution's definition is reused
	// for its Lambda step timeouts.
	DefaultDefinitionTTL = time.Hour
)

// New returns the service, with defaults for the settings left zero.
func New(d Deps) *Service {
	s := &Service{ledger: d.Ledger, sm: d.SageMaker, sqs: d.SQS, stopQueueURL: d.StopQueueURL, workers: d.Workers,
		access: d.Access, scope: d.Scope, policies: d.Policies, outcome: d.Outcome, defs: d.Definitions, observer: d.Observer,
		maxAttempts: d.MaxAttempts, retryBase: d.RetryBase, limits: d.SweepLimits.withDefaults(), now: d.Clock, log: d.Logger}
	if s.maxAttempts <= 0 {
		s.maxAttempts = DefaultCleanupMaxAttempts
	}
	if s.retryBase <= 0 {
		s.retryBase = DefaultRetryBase
	}
	if d.CleanerTimeout <= 0 {
		d.CleanerTimeout = DefaultCleanerTimeout
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.defs == nil && d.SageMaker != nil {
		s.defs = NewDefinitions(d.SageMaker, DefaultDefinitionTTL, s.now)
	}
	s.tokens = &tokenPath{ledger: d.Ledger, sm: d.SageMaker, cleaner: d.Cleaner, scope: d.Scope, cleanerTimeout: d.CleanerTimeout, now: s.now}
	s.stopper, s.answerer = s, s
	return s
}

// withDefinitions is a copy of the service that reads Lambda step
// timeouts from defs: a sweeper run counts those reads against its budget.
func (s *Service) withDefinitions(defs *Definitions) *Service {
	c := *s
	c.defs = defs
	return &c
}

// policyFor is the pipeline's policy; the zero policy when none is
// configured.
func (s *Service) policyFor(pipelineName string) policy.Policy {
	if s.policies == nil {
		return policy.Policy{}
	}
	return s.policies.For(pipelineName)
}

// failFast reports whether a failed step stops the pipeline's execution.
func (s *Service) failFast(pipelineName string) bool { return s.policyFor(pipelineName).FailFast }
