// Command cleanupfn is a cleanup Lambda for the cleaner tests. The callback
// context's arguments pick what it does: mode "error" fails, mode "sleep"
// sleeps sleepMs without looking at its deadline; otherwise it succeeds.
package main

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type callbackContext struct {
	Token     string         `json:"token"`
	Arguments map[string]any `json:"arguments"`
}

func handle(_ context.Context, cc callbackContext) (map[string]string, error) {
	switch cc.Arguments["mode"] {
	case "error":
		return nil, errors.New("could not reach the job scheduler")
	case "sleep":
		ms, _ := cc.Arguments["sleepMs"].(float64)
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	return map[string]string{"cleaned": cc.Token}, nil
}

func main() { lambda.Start(handle) }
