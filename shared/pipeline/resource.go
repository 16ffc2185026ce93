package pipeline

// Resource is something a callback step started outside SageMaker that must
// be cleaned up when the step is stopped: a Step Functions execution, a Glue
// job run, a Batch job, an ECS task, a SageMaker job, or a cleanup Lambda to
// call. Kind names the cleaner; ID is what that cleaner acts on.
type Resource struct {
	Kind   string            `json:"kind" dynamodbav:"kind"`
	ID     string            `json:"id" dynamodbav:"id"`
	Params map[string]string `json:"params,omitempty" dynamodbav:"params,omitempty"`
	// RegisteredBy is who asked for the cleanup: the IAM identity of the
	// worker that registered it, or "step arguments". Set by stopcoord,
	// never taken from a request body.
	RegisteredBy string `json:"registeredBy,omitempty" dynamodbav:"registeredBy,omitempty"`
}

// Key identifies the resource within one callback token's cleanup.
func (r Resource) Key() string { return r.Kind + "#" + r.ID }
