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
	definitionDoc                                string
	def                                          *definition
	parallelism                                  *int64
	created, modified, lastRun                   time.Time
}

type execution struct {
	arn, id                  string
	pipe                     *pipeline
	displayName, description string
	status, failureReason    string
	created, modified, ended time.Time
	parallelism              *int64
	params                   map[string]any
	def                      *definition

	steps  []*stepRun // started steps, in start order
	byName map[string]*stepRun

	// stopCh is closed when a stop is accepted; step goroutines watch it.
	stopCh chan struct{}
	// dropStopping is drawn once per execution from DropStoppingMessage.
	dropStopping bool
	// done is closed once the execution is terminal and its runner ended.
	done chan struct{}
}

type stepRun struct {
	def           *stepDef
	status        string
	start, end    time.Time
	failureReason string
	args          any // resolved Arguments

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
