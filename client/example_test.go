package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stopcoord/stopcoord/client"
)

// Stop an execution and wait until it has stopped.
func Example() {
	ctx := context.Background()
	// The stack's ApiUrl output; SigV4 with the SDK's default credentials.
	c, err := client.NewFromDefaults(ctx, "https://abc123.execute-api.eu-west-1.amazonaws.com")
	if err != nil {
		return
	}
	out, err := c.StopExecution(ctx, &client.StopExecutionInput{Execution: "train-model/p4jn9xou8a8s", Reason: "cost", IdempotencyKey: "incident-42"})
	if err != nil {
		return
	}
	waiter := client.NewStopWaiter(c, func(o *client.StopWaiterOptions) {
		o.OnPoll = func(s *client.GetStopOutput) {
			fmt.Println(s.Execution.Status, len(s.Execution.Blocking.OpenCallbacks), "open callbacks")
		}
	})
	_, err = waiter.WaitForOutput(ctx, &client.GetStopInput{StopID: out.Stop.ID}, 30*time.Minute)
	var notStopped *client.NotStoppedError
	switch {
	case errors.As(err, &notStopped):
		fmt.Println("ended", notStopped.Outcome) // a Lambda step timed out, or it finished first
	case err != nil:
		fmt.Println(err)
	}
}
