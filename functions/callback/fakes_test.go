package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// latency models an AWS round trip in the fakes; zero for unit tests.
type latency time.Duration

func (l latency) wait() {
	if l > 0 {
		time.Sleep(time.Duration(l))
	}
}

// memLedger is an in-memory stand-in for the ledger with the same
// exactly-once rules, for handler tests and benchmarks. The ledger itself
// is tested against DynamoDB Local.
type memLedger struct {
	latency
	mu         sync.Mutex
	tokens     map[string]map[string]pipeline.Token   // by execution ARN, then token
	byToken    map[string]string                      // token to execution ARN
	cleanups   map[string]map[string]pipeline.Cleanup // by execution ARN, then token and resource
	stops      map[string][]pipeline.StopRequest
	rejections []callback.Rejection
}

func newMemLedger(l time.Duration) *memLedger {
	return &memLedger{latency: latency(l), tokens: map[string]map[string]pipeline.Token{}, byToken: map[string]string{},
		cleanups: map[string]map[string]pipeline.Cleanup{}, stops: map[string][]pipeline.StopRequest{}}
}

func (m *memLedger) CompleteToken(_ context.Context, r pipeline.TokenRegistration) (pipeline.Token, bool, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[r.ARN.String()][r.Token]
	if !ok {
		t = pipeline.Token{ExecutionARN: r.ARN.String(), Token: r.Token, State: pipeline.TokenOpen, RegisteredAt: time.Now()}
	}
	if t.StepName == "" {
		t.StepName = r.StepName
	}
	if len(t.Arguments) == 0 {
		t.Arguments = r.Arguments
	}
	t.CleanupPlan = callback.MergePlan(t.CleanupPlan, r.CleanupPlan)
	m.put(t)
	return t, !ok, nil
}

func (m *memLedger) GetToken(_ context.Context, arn pipeline.ExecutionARN, token string) (pipeline.Token, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[arn.String()][token]
	if !ok {
		return pipeline.Token{}, pipeline.ErrNotFound
	}
	return t, nil
}

func (m *memLedger) FindToken(_ context.Context, token string) (pipeline.Token, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	if arn, ok := m.byToken[token]; ok {
		return m.tokens[arn][token], nil
	}
	return pipeline.Token{}, pipeline.ErrNotFound
}

func (m *memLedger) ClaimToken(_ context.Context, arn pipeline.ExecutionARN, token, claimant string, lease time.Duration) (pipeline.Token, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[arn.String()][token]
	switch {
	case !ok:
		return pipeline.Token{}, pipeline.ErrNotFound
	case t.State == pipeline.TokenAnswered:
		return t, &pipeline.AlreadyAnsweredError{Token: token, AnsweredBy: t.AnsweredBy}
	case t.State == pipeline.TokenClaimed && t.ClaimedBy != claimant && time.Now().Before(t.ClaimUntil):
		return t, &pipeline.ClaimedError{Token: token, ClaimedBy: t.ClaimedBy, ClaimUntil: t.ClaimUntil}
	}
	t.State, t.ClaimedBy, t.ClaimUntil = pipeline.TokenClaimed, claimant, time.Now().Add(lease)
	m.put(t)
	return t, nil
}

func (m *memLedger) MarkAnswered(_ context.Context, arn pipeline.ExecutionARN, token string, a pipeline.Answer) (pipeline.Token, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[arn.String()][token]
	switch {
	case !ok:
		return pipeline.Token{}, pipeline.ErrNotFound
	case t.State == pipeline.TokenAnswered:
		return t, &pipeline.AlreadyAnsweredError{Token: token, AnsweredBy: t.AnsweredBy}
	}
	t.State, t.AnsweredBy, t.Outcome, t.Reason, t.AnsweredAt = pipeline.TokenAnswered, a.By, a.Outcome, a.Reason, time.Now()
	m.put(t)
	return t, nil
}

func (m *memLedger) FlagToken(_ context.Context, arn pipeline.ExecutionARN, token, why string) (pipeline.Token, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tokens[arn.String()][token]
	t.Attention, t.AttentionReason = true, why
	m.put(t)
	return t, nil
}

func (m *memLedger) ReadExecution(_ context.Context, arn pipeline.ExecutionARN) (pipeline.View, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	v := pipeline.View{Stops: m.stops[arn.String()]}
	for _, t := range m.tokens[arn.String()] {
		v.Tokens = append(v.Tokens, t)
	}
	for _, c := range m.cleanups[arn.String()] {
		v.Cleanups = append(v.Cleanups, c)
	}
	return v, nil
}

func (m *memLedger) RecordCleanup(_ context.Context, r pipeline.CleanupResult) (pipeline.Cleanup, error) {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	k := r.Token + r.Resource.Key()
	if m.cleanups[r.ARN.String()] == nil {
		m.cleanups[r.ARN.String()] = map[string]pipeline.Cleanup{}
	}
	c := m.cleanups[r.ARN.String()][k]
	c.ExecutionARN, c.Token, c.Resource, c.Status, c.LastError, c.LastAt = r.ARN.String(), r.Token, r.Resource, r.Status, r.Error, r.At
	c.Attempts++
	c.History = append(c.History, pipeline.CleanupAttempt{At: r.At, Status: r.Status, Error: r.Error, Duration: r.Duration})
	m.cleanups[r.ARN.String()][k] = c
	return c, nil
}

func (m *memLedger) RecordRejection(_ context.Context, r callback.Rejection) error {
	m.wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rejections = append(m.rejections, r)
	return nil
}

func (m *memLedger) token(arn, token string) pipeline.Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[arn][token]
}

// put stores a token record; the caller holds the lock.
func (m *memLedger) put(t pipeline.Token) {
	if m.tokens[t.ExecutionARN] == nil {
		m.tokens[t.ExecutionARN] = map[string]pipeline.Token{}
	}
	m.tokens[t.ExecutionARN][t.Token] = t
	m.byToken[t.Token] = t.ExecutionARN
}

// fakeSageMaker lists the callback steps it is given and counts answers.
type fakeSageMaker struct {
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
