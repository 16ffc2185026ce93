package client

import "time"

// The wire types of the stop API (api/openapi.yaml), as the client decodes
// them. They are declared here rather than imported from the service's
// packages so that a program using the client depends on nothing but it.

// Execution statuses SageMaker reports.
const (
	StatusExecuting = "Executing"
	StatusStopping  = "Stopping"
	StatusStopped   = "Stopped"
	StatusFailed    = "Failed"
	StatusSucceeded = "Succeeded"
)

// Stop phases: recorded, accepted by SageMaker, the execution ended.
const (
	PhaseRequested = "requested"
	PhaseIssued    = "issued"
	PhaseClosed    = "closed"
)

// Stop modes.
const (
	ModeGraceful = "graceful" // clean up and answer each callback as its Stopping message arrives
	ModeForce    = "force"    // answer every open callback at once
)

// Stop is a stop request and how far it has come.
type Stop struct {
	ID           string          `json:"id"`
	ExecutionARN string          `json:"executionArn"`
	Mode         string          `json:"mode"`
	Reason       string          `json:"reason,omitempty"`
	RequestedBy  string          `json:"requestedBy,omitempty"`
	Phase        string          `json:"phase"`
	CreatedAt    time.Time       `json:"createdAt"`
	IssuedAt     *time.Time      `json:"issuedAt,omitempty"`
	ClosedAt     *time.Time      `json:"closedAt,omitempty"`
	Outcome      string          `json:"outcome,omitempty"` // the execution's final status once closed
	LatencyMs    int64           `json:"latencyMs,omitempty"`
	Timeline     []TimelineEntry `json:"timeline"`
}

// Closed reports whether the execution has ended.
func (s Stop) Closed() bool { return s.Phase == PhaseClosed }

// TimelineEntry is one thing that happened to an execution or a stop.
type TimelineEntry struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Detail string    `json:"detail,omitempty"`
}

// Execution is an execution as stopcoord sees it, with what still blocks a
// stop of it.
type Execution struct {
	ExecutionARN  string     `json:"executionArn"`
	PipelineName  string     `json:"pipelineName"`
	Status        string     `json:"status"`
	Terminal      bool       `json:"terminal"`
	StartedAt     *time.Time `json:"startedAt,omitempty"`
	EndedAt       *time.Time `json:"endedAt,omitempty"`
	FailureReason string     `json:"failureReason,omitempty"`
	Source        string     `json:"source"` // "ledger", or "sagemaker" when the ledger was behind
	// PipelineVersion is the version of the pipeline the execution ran.
	PipelineVersion *PipelineVersion `json:"pipelineVersion,omitempty"`
	// Parameters are the resolved parameters, defaults included (GetExecution only).
	Parameters []Parameter `json:"parameters,omitempty"`
	// Attempts are the execution's runs, oldest first: one more per
	// RetryPipelineExecution.
	Attempts []Attempt       `json:"attempts"`
	Steps    []Step          `json:"steps"`
	Blocking Blocking        `json:"blocking"`
	Stops    []Stop          `json:"stops"`
	Timeline []TimelineEntry `json:"timeline"`
}

// PipelineVersion is a version of a pipeline (UpdatePipeline makes one).
type PipelineVersion struct {
	ID          int64  `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
}

// Parameter is one resolved parameter of an execution.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attempt is one run of an execution, from Executing to its end.
type Attempt struct {
	Number     int        `json:"number"`
	Status     string     `json:"status"` // final once EndedAt is set
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	StoppingAt *time.Time `json:"stoppingAt,omitempty"`
	EndedAt    *time.Time `json:"endedAt,omitempty"`
}

// Step is one step of an execution.
type Step struct {
	Name          string     `json:"name"`
	Kind          string     `json:"kind,omitempty"`
	Status        string     `json:"status"`
	StartedAt     *time.Time `json:"startedAt,omitempty"`
	EndedAt       *time.Time `json:"endedAt,omitempty"`
	FailureReason string     `json:"failureReason,omitempty"`
	FunctionARN   string     `json:"functionArn,omitempty"`
	JobARN        string     `json:"jobArn,omitempty"`
	EndsBy        *time.Time `json:"endsBy,omitempty"` // Lambda steps: start + timeout
	Callback      *Callback  `json:"callback,omitempty"`
}

// Callback is a callback step's token and what became of it.
type Callback struct {
	TokenRef   string `json:"tokenRef"` // a reference to the token ("tok-" and a hash), never the token
	State      string `json:"state"`    // open, claimed, answered
	AnsweredBy string `json:"answeredBy,omitempty"`
	Outcome    string `json:"outcome,omitempty"` // success, failure
	// Resources is the cleanup plan and who registered each resource.
	Resources []PlannedResource `json:"resources,omitempty"`
	Cleanups  []Cleanup         `json:"cleanups,omitempty"`
}

// PlannedResource is a resource in a callback's cleanup plan.
type PlannedResource struct {
	Kind         string `json:"kind"`
	ID           string `json:"id"`
	RegisteredBy string `json:"registeredBy,omitempty"` // the step's arguments, or a worker's IAM identity
}

// Cleanup is the record of cleaning one resource.
type Cleanup struct {
	Kind      string    `json:"kind"`
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"lastError,omitempty"`
	LastAt    time.Time `json:"lastAt"`
}

// Blocking is what a stop still waits for.
type Blocking struct {
	OpenCallbacks  []OpenCallback  `json:"openCallbacks"`
	RunningLambdas []RunningLambda `json:"runningLambdas"`
}

// Empty reports whether nothing blocks the stop any more.
func (b Blocking) Empty() bool { return len(b.OpenCallbacks) == 0 && len(b.RunningLambdas) == 0 }

// OpenCallback is a callback step whose token is not answered yet.
type OpenCallback struct {
	StepName string     `json:"stepName"`
	TokenRef string     `json:"tokenRef,omitempty"`
	Since    *time.Time `json:"since,omitempty"`
}

// RunningLambda is a Lambda step the stop must wait out.
type RunningLambda struct {
	StepName    string     `json:"stepName"`
	FunctionARN string     `json:"functionArn,omitempty"`
	StartedAt   *time.Time `json:"startedAt,omitempty"`
	EndsBy      *time.Time `json:"endsBy,omitempty"`
}

// Resource is something a callback step's worker started, for its cleanup.
type Resource struct {
	Kind   string            `json:"kind"`
	ID     string            `json:"id"`
	Params map[string]string `json:"params,omitempty"`
	// RegisteredBy is set by stopcoord in answers: who asked for the
	// cleanup. It is never sent.
	RegisteredBy string `json:"registeredBy,omitempty"`
}

// QueuedStop is one execution a bulk stop queued.
type QueuedStop struct {
	ExecutionARN string `json:"executionArn"`
	StopID       string `json:"stopId"`
}
