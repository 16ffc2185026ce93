package ledger

import (
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Execution is the ledger's record of one pipeline execution.
type Execution struct {
	ExecutionARN  string                   `dynamodbav:"executionArn"`
	PipelineName  string                   `dynamodbav:"pipelineName"`
	PipelineARN   string                   `dynamodbav:"pipelineArn"`
	Status        pipeline.ExecutionStatus `dynamodbav:"status"`
	StatusAt      time.Time                `dynamodbav:"statusAt"` // event time of Status
	StartedAt     time.Time                `dynamodbav:"startedAt,omitempty"`
	EndedAt       time.Time                `dynamodbav:"endedAt,omitempty"`
	StoppingSince time.Time                `dynamodbav:"stoppingSince,omitempty"`
	DisplayName   string                   `dynamodbav:"displayName,omitempty"`
	FailureReason string                   `dynamodbav:"failureReason,omitempty"`
	UpdatedAt     time.Time                `dynamodbav:"updatedAt"`
	ExpiresAt     int64                    `dynamodbav:"expiresAt,omitempty"` // epoch seconds, set once terminal
}

// Step is the ledger's record of one step of an execution.
type Step struct {
	ExecutionARN  string              `dynamodbav:"executionArn"`
	StepName      string              `dynamodbav:"stepName"`
	Kind          pipeline.StepKind   `dynamodbav:"kind,omitempty"`
	Status        pipeline.StepStatus `dynamodbav:"status"`
	StatusAt      time.Time           `dynamodbav:"statusAt"`
	StartedAt     time.Time           `dynamodbav:"startedAt,omitempty"`
	EndedAt       time.Time           `dynamodbav:"endedAt,omitempty"`
	FailureReason string              `dynamodbav:"failureReason,omitempty"`
	CallbackToken string              `dynamodbav:"callbackToken,omitempty"`
	FunctionARN   string              `dynamodbav:"functionArn,omitempty"`
	JobARN        string              `dynamodbav:"jobArn,omitempty"`
	// LambdaTimeout is the Lambda step's timeout: the step blocks a stop
	// until StartedAt + LambdaTimeout at the latest.
	LambdaTimeout time.Duration  `dynamodbav:"lambdaTimeoutNs,omitempty"`
	Metadata      map[string]any `dynamodbav:"metadata,omitempty"`
	UpdatedAt     time.Time      `dynamodbav:"updatedAt"`
	ExpiresAt     int64          `dynamodbav:"expiresAt,omitempty"`
}

// TokenState is where a callback token is in its life.
type TokenState string

const (
	TokenOpen     TokenState = "open"     // registered, not answered
	TokenClaimed  TokenState = "claimed"  // a worker is answering it
	TokenAnswered TokenState = "answered" // Send* succeeded; never again
)

// Outcome is how a callback token was answered.
type Outcome string

const (
	OutcomeSuccess Outcome = "success"
	OutcomeFailure Outcome = "failure"
)

// Token is a callback step's token and what stopcoord knows about it.
type Token struct {
	ExecutionARN string              `dynamodbav:"executionArn"`
	Token        string              `dynamodbav:"token"`
	StepName     string              `dynamodbav:"stepName,omitempty"`
	Arguments    map[string]any      `dynamodbav:"arguments,omitempty"`
	CleanupPlan  []pipeline.Resource `dynamodbav:"cleanupPlan,omitempty"`
	State        TokenState          `dynamodbav:"state"`
	RegisteredAt time.Time           `dynamodbav:"registeredAt"`
	ClaimedBy    string              `dynamodbav:"claimedBy,omitempty"`
	ClaimUntil   time.Time           `dynamodbav:"claimUntil,omitempty"`
	AnsweredBy   string              `dynamodbav:"answeredBy,omitempty"`
	AnsweredAt   time.Time           `dynamodbav:"answeredAt,omitempty"`
	Outcome      Outcome             `dynamodbav:"outcome,omitempty"`
	Reason       string              `dynamodbav:"reason,omitempty"`
	ExpiresAt    int64               `dynamodbav:"expiresAt,omitempty"`
}

// CleanupStatus is the result of one cleanup attempt.
type CleanupStatus string

const (
	CleanupSucceeded CleanupStatus = "succeeded"
	CleanupFailed    CleanupStatus = "failed"
	CleanupSkipped   CleanupStatus = "skipped" // e.g. a force stop answered without cleaning
)

// CleanupAttempt is one try at cleaning one resource.
type CleanupAttempt struct {
	At       time.Time     `dynamodbav:"at"`
	Status   CleanupStatus `dynamodbav:"status"`
	Error    string        `dynamodbav:"error,omitempty"`
	Duration time.Duration `dynamodbav:"durationNs"`
}

// Cleanup is the record of cleaning one resource of one callback token.
type Cleanup struct {
	ExecutionARN string            `dynamodbav:"executionArn"`
	Token        string            `dynamodbav:"token"`
	Resource     pipeline.Resource `dynamodbav:"resource"`
	Attempts     int               `dynamodbav:"attempts"`
	Status       CleanupStatus     `dynamodbav:"status"` // of the last attempt
	LastError    string            `dynamodbav:"lastError,omitempty"`
	FirstAt      time.Time         `dynamodbav:"firstAt"`
	LastAt       time.Time         `dynamodbav:"lastAt"`
	History      []CleanupAttempt  `dynamodbav:"history"`
	ExpiresAt    int64             `dynamodbav:"expiresAt,omitempty"`
}

// TimelineEntry is one thing that happened to a stop request.
type TimelineEntry struct {
	At     time.Time `dynamodbav:"at"`
	Event  string    `dynamodbav:"event"`
	Detail string    `dynamodbav:"detail,omitempty"`
}

// StopRequest is one request to stop an execution.
type StopRequest struct {
	ID           string                   `dynamodbav:"id"`
	ExecutionARN string                   `dynamodbav:"executionArn"`
	Key          string                   `dynamodbav:"key"` // idempotency key
	Mode         pipeline.StopMode        `dynamodbav:"mode"`
	Reason       string                   `dynamodbav:"reason,omitempty"`
	RequestedBy  string                   `dynamodbav:"requestedBy,omitempty"`
	Phase        pipeline.StopPhase       `dynamodbav:"phase"`
	CreatedAt    time.Time                `dynamodbav:"createdAt"`
	IssuedAt     time.Time                `dynamodbav:"issuedAt,omitempty"`
	ClosedAt     time.Time                `dynamodbav:"closedAt,omitempty"`
	Outcome      pipeline.ExecutionStatus `dynamodbav:"outcome,omitempty"`
	// LatencyMillis is from CreatedAt to ClosedAt, set on close.
	LatencyMillis int64           `dynamodbav:"latencyMs,omitempty"`
	Timeline      []TimelineEntry `dynamodbav:"timeline"`
	ExpiresAt     int64           `dynamodbav:"expiresAt,omitempty"`
}

// View is everything the ledger holds about one execution.
type View struct {
	Execution *Execution // nil when no execution status was recorded yet
	Steps     []Step
	Tokens    []Token
	Cleanups  []Cleanup
	Stops     []StopRequest
}
