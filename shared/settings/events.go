package settings

// Environment variable names of the status-events and sweeper functions,
// shared with infra. (Policies, StopQueueURL and SageMakerCallsPerSecond,
// which they also read, are in settings.go.)
const (
	// SweepBatch is the most executions one sweeper run looks at.
	SweepBatch = "STOPCOORD_SWEEP_BATCH"
	// SweepMaxCalls is the most SageMaker calls one sweeper run makes.
	SweepMaxCalls = "STOPCOORD_SWEEP_MAX_CALLS"
)
