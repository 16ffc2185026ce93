package cleanup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// FunctionInvoker invokes a Lambda function; *lambda.Client satisfies it.
type FunctionInvoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ FunctionInvoker = (*lambda.Client)(nil)

// Lambda invokes a step's cleanup function (ID: function name or ARN)
// synchronously with the callback context, and waits for it within the
// context's deadline (the cleaner timeout).
type Lambda struct{ Client FunctionInvoker }

// Kind implements Cleaner.
func (Lambda) Kind() string { return pipeline.ResourceLambdaCleanup }

// Clean invokes the function; its error is the cleanup's failure.
func (c Lambda) Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error {
	payload, err := json.Marshal(cc)
	if err != nil {
		return fmt.Errorf("encode callback context: %w", err)
	}
	out, err := c.Client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(r.ID),
		InvocationType: lambdatypes.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return err
	}
	if out.FunctionError != nil {
		return fmt.Errorf("cleanup function %s failed (%s): %s", r.ID, aws.ToString(out.FunctionError), truncate(string(out.Payload), 512))
	}
	// Lambda marks a failed invocation with FunctionError; runtimes that
	// only return the error document (aws-lambda-rie does) are read too.
	if msg, failed := errorDocument(out.Payload); failed {
		return fmt.Errorf("cleanup function %s failed: %s", r.ID, truncate(msg, 512))
	}
	return nil
}

// timedOut is the plain-text body a runtime emulator returns for a function
// that ran past its timeout.
var timedOut = []byte("Task timed out after")

func errorDocument(payload []byte) (string, bool) {
	trimmed := bytes.TrimSpace(payload)
	if bytes.HasPrefix(trimmed, timedOut) {
		return string(trimmed), true
	}
	var doc struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    *string `json:"errorType"`
	}
	if json.Unmarshal(trimmed, &doc) == nil && doc.ErrorMessage != nil && doc.ErrorType != nil {
		return *doc.ErrorType + ": " + *doc.ErrorMessage, true
	}
	return "", false
}
