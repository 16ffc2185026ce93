package main

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// latency models an AWS round trip in the fakes; zero for unit tests.
type latency time.Duration

func (l latency) wait() {
	if l > 0 {
		time.Sleep(time.Duration(l))
	}
}

// testLedger is the real ledger on a fresh DynamoDB Local table, with the
// reads the tests check.
type testLedger struct {
	*ledger.Ledger
	tb testing.TB
}

func newTestLedger(tb testing.TB) *testLedger {
	tb.Helper()
	client, table := dynamodblocal.ClientT(tb)
	if err := ledger.CreateTable(context.Background(), client, table); err != nil {
		tb.Fatal(err)
	}
	return &testLedger{Ledger: ledger.New(client, table), tb: tb}
}

func (l *testLedger) token(arn, token string) pipeline.Token {
	a, err := pipeline.ParseExecutionARN(arn)
	if err != nil {
		l.tb.Fatal(err)
	}
	rec, err := l.GetToken(context.Background(), a, token)
	if err != nil && !errors.Is(err, pipeline.ErrNotFound) {
		l.tb.Fatal(err)
	}
	return rec
}

func (l *testLedger) rejections() []pipeline.Rejection {
	rs, err := l.ListRejections(context.Background(), time.Now())
	if err != nil {
		l.tb.Fatal(err)
	}
	return rs
}

// fakeSageMaker lists the callback steps it is given and counts answers.
type fakeSageMaker struct {
	coordinator.SageMaker // calls the consumer must not make panic
	latency
	steps    map[string][]smtypes.PipelineExecutionStep // by execution ARN
	failures atomic.Int64
	success  atomic.Int64
	mu       sync.Mutex
	reasons  []string
}

func (f *fakeSageMaker) ListPipelineExecutionSteps(_ context.Context, in *sagemaker.ListPipelineExecutionStepsInput, _ ...func(*sagemaker.Options)) (*sagemaker.ListPipelineExecutionStepsOutput, error) {
	f.wait()
	return &sagemaker.ListPipelineExecutionStepsOutput{PipelineExecutionSteps: f.steps[aws.ToString(in.PipelineExecutionArn)]}, nil
}

func (f *fakeSageMaker) SendPipelineExecutionStepFailure(_ context.Context, in *sagemaker.SendPipelineExecutionStepFailureInput, _ ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepFailureOutput, error) {
	f.wait()
	f.failures.Add(1)
	f.mu.Lock()
	f.reasons = append(f.reasons, aws.ToString(in.FailureReason))
	f.mu.Unlock()
	return &sagemaker.SendPipelineExecutionStepFailureOutput{}, nil
}

func (f *fakeSageMaker) SendPipelineExecutionStepSuccess(context.Context, *sagemaker.SendPipelineExecutionStepSuccessInput, ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepSuccessOutput, error) {
	f.wait()
	f.success.Add(1)
	return &sagemaker.SendPipelineExecutionStepSuccessOutput{}, nil
}

func callbackStep(name, token string, status smtypes.StepStatus) smtypes.PipelineExecutionStep {
	return smtypes.PipelineExecutionStep{StepName: aws.String(name), StepStatus: status,
		Metadata: &smtypes.PipelineExecutionStepMetadata{Callback: &smtypes.CallbackStepMetadata{CallbackToken: aws.String(token)}}}
}

// fakeWork records hand-offs to Lambda and SQS workers.
type fakeWork struct {
	coordinator.SQS // SendMessageBatch: the consumer never sends batches
	latency
	invokes, sends atomic.Int64
}

func (f *fakeWork) Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error) {
	f.wait()
	f.invokes.Add(1)
	return &lambda.InvokeOutput{StatusCode: 202}, nil
}

func (f *fakeWork) SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error) {
	f.wait()
	f.sends.Add(1)
	return &sqs.SendMessageOutput{}, nil
}

// fakeCleaner counts cleanups.
type fakeCleaner struct {
	latency
	calls atomic.Int64
}

func (f *fakeCleaner) Clean(context.Context, pipeline.Resource, callback.Context) error {
	f.wait()
	f.calls.Add(1)
	return nil
}

// fakeVisibility records visibility changes.
type fakeVisibility struct {
	mu      sync.Mutex
	changes []sqs.ChangeMessageVisibilityInput
}

func (f *fakeVisibility) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.changes = append(f.changes, *in)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}
