package worker_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stopcoord/stopcoord/shared/worker"
)

type recordingInvoker struct {
	got []*lambda.InvokeInput
	err error
}

func (r *recordingInvoker) Invoke(_ context.Context, in *lambda.InvokeInput, _ ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	r.got = append(r.got, in)
	return &lambda.InvokeOutput{StatusCode: 202}, r.err
}

func TestStartWorkerInvokesAsynchronouslyWithThePayload(t *testing.T) {
	inv := &recordingInvoker{}
	payload := []byte(`{"token":"t"}`)
	if err := (worker.Lambda{Client: inv}).StartWorker(context.Background(), "etl-worker", payload); err != nil {
		t.Fatal(err)
	}
	if len(inv.got) != 1 {
		t.Fatalf("%d invocations, want 1", len(inv.got))
	}
	in := inv.got[0]
	if aws.ToString(in.FunctionName) != "etl-worker" || in.InvocationType != types.InvocationTypeEvent || string(in.Payload) != string(payload) {
		t.Errorf("invoked %q as %q with %s; want etl-worker as Event with %s", aws.ToString(in.FunctionName), in.InvocationType, in.Payload, payload)
	}
}

func TestStartWorkerReturnsARefusal(t *testing.T) {
	refused := errors.New("TooManyRequestsException")
	err := (worker.Lambda{Client: &recordingInvoker{err: refused}}).StartWorker(context.Background(), "etl-worker", nil)
	if !errors.Is(err, refused) {
		t.Fatalf("err = %v, want the invoker's", err)
	}
}
