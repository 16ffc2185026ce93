package pipeline

// StopMode says how hard a stop pushes.
type StopMode string

const (
	// StopGraceful stops the execution and lets each callback step be
	// cleaned up and answered when its Stopping message arrives.
	StopGraceful StopMode = "graceful"
	// StopForce also answers every open callback token with a failure at
	// once, skipping cleanup.
	StopForce StopMode = "force"
)

// ParseStopMode validates a stop mode; the empty string means graceful.
func ParseStopMode(s string) (StopMode, error) {
	switch StopMode(s) {
	case "", StopGraceful:
		return StopGraceful, nil
	case StopForce:
		return StopForce, nil
	}
	return "", Errorf(EInvalid, "mode %q is not graceful or force", truncate(s, 40))
}

// StopPhase is how far a stop request has come.
type StopPhase string

const (
	StopRequested StopPhase = "requested" // recorded, SageMaker not yet asked
	StopIssued    StopPhase = "issued"    // StopPipelineExecution accepted
	StopClosed    StopPhase = "closed"    // the execution is terminal
)

var stopPhaseRanks = map[StopPhase]int{StopRequested: 1, StopIssued: 2, StopClosed: 3}

// Rank orders the phases; a stop request only moves forward.
func (p StopPhase) Rank() int { return stopPhaseRanks[p] }

// MaxReasonLength bounds a stop reason: SendPipelineExecutionStepFailure's
// FailureReason takes at most 256 characters, and the reason ends up there.
const MaxReasonLength = 256

// StopID derives the id of the stop request for an execution and an
// idempotency key: the same pair always names the same request.
func StopID(arn ExecutionARN, key string) string {
	return "stop-" + RequestToken("stop-request", arn.String(), key)[:24]
}
