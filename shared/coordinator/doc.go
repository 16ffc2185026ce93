// Package coordinator holds stopcoord's use cases: stop an execution or
// every running execution of a pipeline, and show what a stop waits for.
// It declares the ports it needs (the ledger, SageMaker, the stop queue)
// in the shapes of the SDK clients and of the ledger, so the production
// implementations plug in without adapters and tests use small fakes.
package coordinator
