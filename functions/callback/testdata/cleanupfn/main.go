// Command cleanupfn is a step's cleanup Lambda for the callback consumer's
// integration test: it appends the callback context it was invoked with,
// one JSON line per call, to the file CLEANUP_LOG names.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, cc json.RawMessage) (map[string]bool, error) {
	f, err := os.OpenFile(os.Getenv("CLEANUP_LOG"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := f.Write(append(cc, '\n')); err != nil {
		return nil, err
	}
	return map[string]bool{"cleaned": true}, nil
}

func main() { lambda.Start(handle) }
