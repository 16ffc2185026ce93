package settings

// The callback consumer's environment variables.
const (
	// CleanupMaxAttempts is how many deliveries of a Stopping message may
	// try a failing cleanup before the token is answered anyway.
	CleanupMaxAttempts = "STOPCOORD_CLEANUP_MAX_ATTEMPTS"
	// CleanerTimeout bounds each cleaner's attempt (Go duration, "30s").
	CleanerTimeout = "STOPCOORD_CLEANER_TIMEOUT"
	// CleanupRetryBase scales the backoff between cleanup attempts:
	// base × 2^attempt (Go duration, "1s").
	CleanupRetryBase = "STOPCOORD_CLEANUP_RETRY_BASE"
	// CallbackConcurrency is how many records of one SQS batch are handled
	// at once.
	CallbackConcurrency = "STOPCOORD_CALLBACK_CONCURRENCY"
	// CleanupScope is what stopcoord may clean up or hand work to, per
	// kind: JSON {"kind": ["glob", ...]}. Unset allows nothing.
	CleanupScope = "STOPCOORD_CLEANUP_SCOPE"
)
