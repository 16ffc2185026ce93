// Package worker starts the Lambda workers that callback steps name in
// their arguments: an asynchronous (Event) invocation with the callback
// context as the payload, which the worker answers or the Stopping path
// cleans up after.
//
// It is the coordinator's only tie to the Lambda client, kept apart so
// that the functions which never start a worker do not link that client:
// a service package's init (its endpoint table) runs in every process
// that imports it, called or not, and every function starts cold.
package worker

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// Invoker invokes a Lambda function; *lambda.Client satisfies it.
type Invoker interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, opts ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ Invoker = (*lambda.Client)(nil)

// Lambda starts workers with Client.
type Lambda struct {
	Client Invoker
}

// StartWorker invokes function asynchronously with payload. Lambda queues
// the event and retries the worker itself, so an accepted invocation is a
// started worker; a refused one is an error the caller retries.
func (l Lambda) StartWorker(ctx context.Context, function string, payload []byte) error {
	_, err := l.Client.Invoke(ctx, &lambda.InvokeInput{
		FunctionName:   aws.String(function),
		InvocationType: types.InvocationTypeEvent,
		Payload:        payload,
	})
	return err
}
