package pipeline

import "time"

// The records below are what stopcoord knows about executions, steps,
// callback tokens, cleanups and stop requests. They live in the domain
// package so that the use cases (shared/coordinator) and the DynamoDB
// ledger (shared/ledger) share them without importing each other; the
// dynamodbav tags are the ledger's attribute names.

// Execution is the ledger's record of one pipeline execution.
type Execution struct {
	ExecutionARN  string          `dynamodbav:"executionArn"`
	PipelineName  string          `dynamodbav:"pipelineName"`
	PipelineARN   string          `dynamodbav:"pipelineArn"`
	Status        ExecutionStatus `dynamodbav:"status"`
	StatusAt      time.Time       `dynamodbav:"statusAt"` // event time of Status
	StartedAt     time.Time       `dynamodbav:"startedAt,omitempty"`
	EndedAt       time.Time       `dynamodbav:"endedAt,omitempty"`
	StoppingSince time.Time       `dynamodbav:"stoppingSince,omitempty"`
	DisplayName   string          `dynamodbav:"displayName,omitempty"`
	FailureReason string          `dynamodbav:"failureReason,omitempty"`
	UpdatedAt     time.Time       `dynamodbav:"updatedAt"`
	ExpiresAt     int64           `dynamodbav:"expiresAt,omitempty"` // epoch seconds, set once terminal
	// Transitions are the statuses the record took, "<epoch ms, 13 digits>#<status>" (events carry whole seconds and stopcoord's own Stopping milliseconds, so they are in event order when sorted by second and, within one, by progress); a retry's attempts are read from them.
	Transitions []string `dynamodbav:"transitions,stringset,omitempty"`
}

// Step is the ledger's record of one step of an execution.
type Step struct {
	ExecutionARN  string     `dynamodbav:"executionArn"`
	StepName      string     `dynamodbav:"stepName"`
	Kind          StepKind   `dynamodbav:"kind,omitempty"`
	Status        StepStatus `dynamodbav:"status"`
	StatusAt      time.Time  `dynamodbav:"statusAt"`
	StartedAt     time.Time  `dynamodbav:"startedAt,omitempty"`
	EndedAt       time.Time  `dynamodbav:"endedAt,omitempty"`
	FailureReason string     `dynamodbav:"failureReason,omitempty"`
	CallbackToken string     `dynamodbav:"callbackToken,omitempty"`
	FunctionARN   string     `dynamodbav:"functionArn,omitempty"`
	JobARN        string     `dynamodbav:"jobArn,omitempty"`
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
	ExecutionARN string         `dynamodbav:"executionArn"`
	Token        string         `dynamodbav:"token"`
	StepName     string         `dynamodbav:"stepName,omitempty"`
	Arguments    map[string]any `dynamodbav:"arguments,omitempty"`
	CleanupPlan  []Resource     `dynamodbav:"cleanupPlan,omitempty"`
	State        TokenState     `dynamodbav:"state"`
	RegisteredAt time.Time      `dynamodbav:"registeredAt"`
	ClaimedBy    string         `dynamodbav:"claimedBy,omitempty"`
	ClaimUntil   time.Time      `dynamodbav:"claimUntil,omitempty"`
	AnsweredBy   string         `dynamodbav:"answeredBy,omitempty"`
	AnsweredAt   time.Time      `dynamodbav:"answeredAt,omitempty"`
	Outcome      Outcome        `dynamodbav:"outcome,omitempty"`
	Reason       string         `dynamodbav:"reason,omitempty"`
	// Attention marks a token a human should look at: it was answered
	// although its cleanup kept failing, so something may still be running.
	Attention       bool   `dynamodbav:"attention,omitempty"`
	AttentionReason string `dynamodbav:"attentionReason,omitempty"`
	ExpiresAt       int64  `dynamodbav:"expiresAt,omitempty"`
}

// CleanupStatus is the result of one cleanup attempt.
type CleanupStatus string

const (
	CleanupSucceeded CleanupStatus = "succeeded"
	CleanupFailed    CleanupStatus = "failed"
	CleanupSkipped   CleanupStatus = "skipped" // e.g. a force stop answered without cleaning
	CleanupRefused   CleanupStatus = "refused" // outside the cleanup scope: never acted on
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
	ExecutionARN string           `dynamodbav:"executionArn"`
	Token        string           `dynamodbav:"token"`
	Resource     Resource         `dynamodbav:"resource"`
	Attempts     int              `dynamodbav:"attempts"`
	Status       CleanupStatus    `dynamodbav:"status"` // of the last attempt
	LastError    string           `dynamodbav:"lastError,omitempty"`
	FirstAt      time.Time        `dynamodbav:"firstAt"`
	LastAt       time.Time        `dynamodbav:"lastAt"`
	History      []CleanupAttempt `dynamodbav:"history"`
	ExpiresAt    int64            `dynamodbav:"expiresAt,omitempty"`
}

// TimelineEntry is one thing that happened to a stop request.
type TimelineEntry struct {
	At     time.Time `dynamodbav:"at"`
	Event  string    `dynamodbav:"event"`
	Detail string    `dynamodbav:"detail,omitempty"`
}

// StopRequest is one request to stop an execution.
type StopRequest struct {
	ID           string          `dynamodbav:"id"`
	ExecutionARN string          `dynamodbav:"executionArn"`
	Key          string          `dynamodbav:"key"` // idempotency key
	Mode         StopMode        `dynamodbav:"mode"`
	Reason       string          `dynamodbav:"reason,omitempty"`
	RequestedBy  string          `dynamodbav:"requestedBy,omitempty"`
	Phase        StopPhase       `dynamodbav:"phase"`
	CreatedAt    time.Time       `dynamodbav:"createdAt"`
	IssuedAt     time.Time       `dynamodbav:"issuedAt,omitempty"`
	ClosedAt     time.Time       `dynamodbav:"closedAt,omitempty"`
	Outcome      ExecutionStatus `dynamodbav:"outcome,omitempty"`
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

// ExecutionChange is an execution status as an event reported it.
type ExecutionChange struct {
	ARN           ExecutionARN
	Status        ExecutionStatus
	At            time.Time // when the status took effect (the event time)
	StartedAt     time.Time // optional
	EndedAt       time.Time // optional
	DisplayName   string    // optional
	FailureReason string    // optional
}

// StepChange is a step status as an event reported it. Empty optional
// fields leave what is recorded untouched, so a sparse event never erases
// what an earlier one brought.
type StepChange struct {
	ARN           ExecutionARN
	StepName      string
	Kind          StepKind
	Status        StepStatus
	At            time.Time
	StartedAt     time.Time
	EndedAt       time.Time
	FailureReason string
	CallbackToken string
	FunctionARN   string
	JobARN        string
	LambdaTimeout time.Duration
	Metadata      map[string]any
}

// NewStop is a request to stop an execution.
type NewStop struct {
	ARN ExecutionARN
	// Key makes creation idempotent: the same execution and key always
	// name the same stop request (an Idempotency-Key header, an event id).
	Key         string
	Mode        StopMode
	Reason      string
	RequestedBy string
	At          time.Time
}

// TokenRegistration is what the callback consumer learns from a callback step's
// start message.
type TokenRegistration struct {
	ARN         ExecutionARN
	Token       string
	StepName    string
	Arguments   map[string]any
	CleanupPlan []Resource
}

// Answer is how a token was answered and by whom.
type Answer struct {
	By      string // who answered: a function, a request id, "force-stop"
	Outcome Outcome
	Reason  string
	// Fence is the claim the answer was given under: the mark is refused
	// when another claim has taken the token since. Empty marks without a
	// claim (an alias record no one claims).
	Fence string
	// Attention, when set, flags the token for a human in the same write,
	// so the flag can never be lost after the answer.
	Attention string
}

// TokenClaim asks for the right to answer a token: the claim's holder
// (Fence) cleans up and answers within the lease; anyone else waits.
type TokenClaim struct {
	ARN   ExecutionARN
	Token string
	// Fence is unique to one attempt (never a message id, which copies of
	// one SQS message share): it fences the answered mark and the release.
	Fence string
	Lease time.Duration
	// Known is the record as the claimant read it, nil when there was none:
	// the claim then creates it. A stale Known costs one more round trip.
	Known *Token
	// StepName, Arguments and Plan are merged into the record where it
	// lacks them, in the same write as the claim.
	StepName  string
	Arguments map[string]any
	Plan      []Resource
}

// CleanupResult is the outcome of one attempt at cleaning one resource.
type CleanupResult struct {
	ARN      ExecutionARN
	Token    string
	Resource Resource
	Status   CleanupStatus
	Error    string // why it failed, when it did
	At       time.Time
	Duration time.Duration
}

// ExecutionPage is one page of executions listed from a ledger index.
type ExecutionPage struct {
	Executions []Execution
	// Cursor continues the listing; empty on the last page.
	Cursor string
	// After[i] continues the listing right after Executions[i], for a
	// reader that stops within the page.
	After []string
}
