package callback

// Context is what stopcoord sends a step's worker (on Executing) and a
// cleanup function (on Stopping): enough to do the work, register what it
// started, and know which step it serves. Its JSON is a contract with
// pipeline authors' code; add fields, never rename them.
type Context struct {
	Token        string         `json:"token"`
	ExecutionARN string         `json:"pipelineExecutionArn"`
	StepName     string         `json:"stepName,omitempty"`
	Arguments    map[string]any `json:"arguments"`
	Status       Status         `json:"status"`
}
