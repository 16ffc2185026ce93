package emulator

import (
	"encoding/json"
	"time"
)

// Execution and step statuses (PipelineExecutionStatus, StepStatus).
const (
	statusStarting  = "Starting" // steps only
	statusExecuting = "Executing"
	statusStopping  = "Stopping"
	statusStopped   = "Stopped"
	statusFailed    = "Failed"
	statusSucceeded = "Succeeded"
)

func terminal(status string) bool {
	return status == statusStopped || status == statusFailed || status == statusSucceeded
}

// The records below are guarded by Emulator.mu.

type pipeline struct {
	name, arn, displayName, description, roleArn string
	parallelism                                  *int64
	created, modified, lastRun                   time.Time
	// versions holds every version, oldest first: versions[i].id is i+1.
	// CreatePipeline records version 1 and UpdatePipeline one more each.
	versions []*pipelineVersion
}

// latest is the version DescribePipeline and StartPipelineExecution use
// when no PipelineVersionId is given.
func (p *pipeline) latest() *pipelineVersion { return p.versions[len(p.versions)-1] }

// version looks a version up by id; nil when there is none.
func (p *pipeline) version(id int64) *pipelineVersion {
	if id < 1 || id > int64(len(p.versions)) {
		return nil
	}
	return p.versions[id-1]
}

// pipelineVersion is one recorded definition of a pipeline. Executions keep
// a pointer to the version they started with, so DescribePipelineDefinition-
// ForExecution shows what an execution ran even after UpdatePipeline.
type pipelineVersion struct {
	id                       int64
	definitionDoc            string
	def                      *definition
	displayName, description string
	created                  time.Time
	lastExecutionArn         string
}

type execution struct {
	arn, id                  string
	pipe                     *pipeline
	version                  *pipelineVersion
	displayName, description string
	status, failureReason    string
	created, modified, ended time.Time
	parallelism              *int64
	params                   map[string]any
	paramList                []wireParameter // resolved, defaults included, in definition order
	mlflowExperimentName     string
	def                      *definition

	steps  []*stepRun // current attempt of every started step, in start order
	byName map[string]*stepRun
	// history holds the attempts a retry replaced, oldest first; retries
	// counts RetryPipelineExecution calls accepted.
	history []*stepRun
	retries int
	// stepSeq numbers step runs in start order, for listing.
	stepSeq int

	// stopCh is closed when a stop is accepted; step goroutines watch it.
	// A retry replaces it.
	stopCh chan struct{}
	// wake tells the runner to look again (UpdatePipelineExecution raised
	// the parallelism).
	wake chan struct{}
	// dropStopping is drawn once per execution from DropStoppingMessage.
	dropStopping bool
}

type stepRun struct {
	def           *stepDef
	status        string
	start, end    time.Time
	failureReason string
	args          any // resolved Arguments
	attempt       int // 1, then one more per retry that re-runs the step
	seq           int // start order within the execution

	// Metadata, filled as the step runs.
	token, queueURL string
	jobARN          string
	outputs         []wireOutputParameter
	outputValues    map[string]any // typed, for expressions
	outcome         *bool
	failMessage     *string

	// answer carries the one accepted Send* for a callback step; answered
	// is set under the lock when it is accepted, so a second one conflicts.
	answer   chan callbackAnswer
	answered bool
}

// tokenRef maps a callback token to its step.
type tokenRef struct {
	x *execution
	s *stepRun
}

type callbackAnswer struct {
	status        string // the step's final status
	failureReason string
	outputs       []wireOutputParameter
}

// idemKey identifies a call by operation and ClientRequestToken; a retry
// with the same token and the same members gets the first answer again.
type idemKey struct{ op, token string }

type idemEntry struct {
	fingerprint string
	response    any
}

// replay looks up an earlier call with this ClientRequestToken. A token
// reused with different members is a ConflictException (SageMaker declares
// no idempotency-mismatch error). Caller holds e.mu.
func (e *Emulator) replay(op string, token *string, in any) (any, bool, error) {
	if token == nil {
		return nil, false, nil
	}
	entry, ok := e.idem[idemKey{op, *token}]
	if !ok {
		return nil, false, nil
	}
	if entry.fingerprint != fingerprint(in) {
		return nil, false, errConflict("ClientRequestToken %s was already used for a different %s request", *token, op)
	}
	return entry.response, true, nil
}

// remember records a successful call for replay. Caller holds e.mu.
func (e *Emulator) remember(op string, token *string, in, response any) {
	if token != nil {
		e.idem[idemKey{op, *token}] = idemEntry{fingerprint: fingerprint(in), response: response}
	}
}

func fingerprint(in any) string {
	b, _ := json.Marshal(in) // request types always marshal
	return string(b)
}
