// Package coordinator is stopcoord's one service: every use case is a
// method of Service, in a file of its own, the way an AWS SDK client has
// one method and one api_op file per call.
//
//	op_stop.go                stop one execution (graceful or force: stop_force.go)
//	op_bulk_stop.go           stop every running execution of a pipeline
//	op_view.go                what an execution's stop waits for (op_view_run.go
//	                          adds its parameters, version and attempts)
//	op_list_stuck_stops.go    the stops open longer than a threshold
//	op_register_resources.go  a worker registers what its step started
//	op_callback.go            a callback message: op_callback_executing.go
//	                          registers the step and hands its work over,
//	                          op_callback_stopping.go cleans up and answers
//	op_status_event.go        SageMaker's status changes into the ledger
//	op_sweep.go               the scheduled sweep (sweep_*.go)
//
// Two files hold what the operations share: tokens.go is the one way a
// callback token is answered, and steps.go the one reader of an
// execution's steps and the one rule for an open callback. ports.go
// declares the one Ledger and the one SageMaker the service needs, in the
// shapes of *ledger.Ledger and the SDK client, so the production
// implementations plug in without adapters.
package coordinator
