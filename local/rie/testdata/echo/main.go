// Command echo is a Lambda function for the rie tests. The event's mode picks
// what it does: echo returns the event, error returns an error, panic panics,
// sleep sleeps for sleepMs without looking at its deadline, so that RIE has
// to enforce the timeout.
package main

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Mode    string `json:"mode"`
	SleepMs int    `json:"sleepMs"`
	N       int    `json:"n"`
}

func handle(_ context.Context, e event) (event, error) {
	switch e.Mode {
	case "error":
		return event{}, errors.New("asked to fail")
	case "panic":
		panic("asked to panic")
	case "sleep":
		time.Sleep(time.Duration(e.SleepMs) * time.Millisecond)
	}
	return e, nil
}

func main() { lambda.Start(handle) }
