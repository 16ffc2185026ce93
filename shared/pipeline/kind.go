package pipeline

// StepKind is a step's Type in the pipeline definition and in SageMaker's
// step events. Kinds stopcoord does not know are kept as they are.
type StepKind string

// The step kinds whose stop behaviour stopcoord knows.
const (
	KindTraining   StepKind = "Training"
	KindProcessing StepKind = "Processing"
	KindTransform  StepKind = "Transform"
	KindTuning     StepKind = "Tuning"
	KindCallback   StepKind = "Callback"
	KindLambda     StepKind = "Lambda"
	KindCondition  StepKind = "Condition"
	KindFail       StepKind = "Fail"
	KindEMR        StepKind = "EMR"
)

// StopBehaviour says what a running step of a kind does to a stop.
type StopBehaviour int

const (
	// StoppedBySageMaker steps (jobs, conditions) end on their own when the
	// execution is stopped.
	StoppedBySageMaker StopBehaviour = iota
	// BlocksUntilAnswered steps (callbacks) hold the execution in Stopping
	// until someone answers their token.
	BlocksUntilAnswered
	// BlocksUntilFinished steps (Lambda) cannot be stopped: the execution
	// waits for the function to finish or the step to time out.
	BlocksUntilFinished
)

// StopBehaviour reports how a running step of this kind reacts to a stop.
func (k StepKind) StopBehaviour() StopBehaviour {
	switch k {
	case KindCallback:
		return BlocksUntilAnswered
	case KindLambda:
		return BlocksUntilFinished
	default:
		return StoppedBySageMaker
	}
}
