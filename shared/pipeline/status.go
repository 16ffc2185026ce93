package pipeline

// ExecutionStatus is the status of a pipeline execution.
type ExecutionStatus string

// Execution statuses as SageMaker reports them.
const (
	ExecutionExecuting ExecutionStatus = "Executing"
	ExecutionStopping  ExecutionStatus = "Stopping"
	ExecutionStopped   ExecutionStatus = "Stopped"
	ExecutionFailed    ExecutionStatus = "Failed"
	ExecutionSucceeded ExecutionStatus = "Succeeded"
	// ExecutionCompletedWithFailures is newer than the documentation's list
	// and appears only in the SDK; it is terminal.
	ExecutionCompletedWithFailures ExecutionStatus = "CompletedWithFailures"
)

// StepStatus is the status of one step of an execution.
type StepStatus string

// Step statuses as SageMaker reports them.
const (
	StepStarting  StepStatus = "Starting"
	StepExecuting StepStatus = "Executing"
	StepStopping  StepStatus = "Stopping"
	StepStopped   StepStatus = "Stopped"
	StepFailed    StepStatus = "Failed"
	StepSucceeded StepStatus = "Succeeded"
)

// Ranks order statuses along the life of an execution or a step. A status
// may only move to one of higher rank, and every terminal status has the
// same, highest rank, so a terminal status is never left.
const (
	rankUnknown  = 0
	rankTerminal = 4
)

var executionRanks = map[ExecutionStatus]int{
	ExecutionExecuting:             2,
	ExecutionStopping:              3,
	ExecutionStopped:               rankTerminal,
	ExecutionFailed:                rankTerminal,
	ExecutionSucceeded:             rankTerminal,
	ExecutionCompletedWithFailures: rankTerminal,
}

var stepRanks = map[StepStatus]int{
	StepStarting:  1,
	StepExecuting: 2,
	StepStopping:  3,
	StepStopped:   rankTerminal,
	StepFailed:    rankTerminal,
	StepSucceeded: rankTerminal,
}

// ParseExecutionStatus validates an execution status.
func ParseExecutionStatus(s string) (ExecutionStatus, error) {
	if _, ok := executionRanks[ExecutionStatus(s)]; !ok {
		return "", Errorf(EInvalid, "%q is not an execution status", truncate(s, 60))
	}
	return ExecutionStatus(s), nil
}

// ParseStepStatus validates a step status.
func ParseStepStatus(s string) (StepStatus, error) {
	if _, ok := stepRanks[StepStatus(s)]; !ok {
		return "", Errorf(EInvalid, "%q is not a step status", truncate(s, 60))
	}
	return StepStatus(s), nil
}

// Rank orders the status along an execution's life: 0 for an unknown status,
// TerminalRank for every terminal one.
func (s ExecutionStatus) Rank() int { return executionRanks[s] }

// Terminal reports whether the execution has ended.
func (s ExecutionStatus) Terminal() bool { return s.Rank() == rankTerminal }

// Rank orders the status along a step's life, as ExecutionStatus.Rank does.
func (s StepStatus) Rank() int { return stepRanks[s] }

// Terminal reports whether the step has ended.
func (s StepStatus) Terminal() bool { return s.Rank() == rankTerminal }

// TerminalRank is the rank every terminal status has.
const TerminalRank = rankTerminal

// CanTransition reports whether an execution may move from one status to
// another. Events can be missed, so skipping statuses is legal (Executing to
// Stopped); going back, leaving a terminal status or moving to the same
// status is not.
func (s ExecutionStatus) CanTransition(to ExecutionStatus) bool {
	return canMove(s.Rank(), to.Rank())
}

// CanTransition reports whether a step may move from one status to another,
// by the same rule as ExecutionStatus.CanTransition.
func (s StepStatus) CanTransition(to StepStatus) bool {
	return canMove(s.Rank(), to.Rank())
}

func canMove(from, to int) bool {
	return to != rankUnknown && from != rankTerminal && to > from
}
