// Command stepfn is a Lambda step's function for the stack's tests. It logs
// that it was called, waits until the file named by waitFor exists (when
// given), and answers with its tag and the name it runs under.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Tag     string `json:"tag"`
	WaitFor string `json:"waitFor"`
}

type result struct {
	Result string `json:"result"`
	Name   string `json:"name"`
}

func handle(ctx context.Context, e event) (result, error) {
	slog.InfoContext(ctx, "step function called", "tag", e.Tag)
	for e.WaitFor != "" {
		if _, err := os.Stat(e.WaitFor); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return result{}, errors.New("gave up waiting for " + e.WaitFor)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return result{Result: e.Tag, Name: os.Getenv("AWS_LAMBDA_FUNCTION_NAME")}, nil
}

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stdout, nil)))
	lambda.Start(handle)
}
