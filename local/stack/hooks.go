package stack

import (
	"github.com/stopcoord/stopcoord/local/sqspoller"
)

// Hooks let a harness stand between the stack's parts, the way a fault
// injector stands between services in production: local/cmd/chaos uses
// them to deliver SQS messages twice and out of order, and to see when a
// function is in the middle of a batch. Nil hooks change nothing.
type Hooks struct {
	// PollerSQS wraps the SQS client of the poller that feeds function fn
	// from the queue with logical id queueID.
	PollerSQS func(queueID, fn string, client sqspoller.SQSAPI) sqspoller.SQSAPI
	// PollerInvoke wraps the function that poller invokes.
	PollerInvoke func(queueID, fn string, inv sqspoller.Invoker) sqspoller.Invoker
}

func (h *Hooks) pollerSQS(queueID, fn string, c sqspoller.SQSAPI) sqspoller.SQSAPI {
	if h == nil || h.PollerSQS == nil {
		return c
	}
	return h.PollerSQS(queueID, fn, c)
}

func (h *Hooks) pollerInvoke(queueID, fn string, inv sqspoller.Invoker) sqspoller.Invoker {
	if h == nil || h.PollerInvoke == nil {
		return inv
	}
	return h.PollerInvoke(queueID, fn, inv)
}
