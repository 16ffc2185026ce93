// Command lambdastep is a Lambda step function for the emulator's tests: it
// sleeps for the event's sleepMs, then returns {"answer": n * 2}.
package main

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	N       float64 `json:"n"`
	SleepMs int     `json:"sleepMs"`
}

func handle(ctx context.Context, e event) (map[string]any, error) {
	select {
	case <-time.After(time.Duration(e.SleepMs) * time.Millisecond):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return map[string]any{"answer": e.N * 2}, nil
}

func main() { lambda.Start(handle) }
