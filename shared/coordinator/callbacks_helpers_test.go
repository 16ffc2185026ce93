package coordinator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/worker"
)

// answerCounter counts and keeps the answers on their way to the emulator.
type answerCounter struct {
	*sagemaker.Client
	mu       sync.Mutex
	failures []sagemaker.SendPipelineExecutionStepFailureInput
	success  []sagemaker.SendPipelineExecutionStepSuccessInput
}

func (a *answerCounter) SendPipelineExecutionStepFailure(ctx context.Context, in *sagemaker.SendPipelineExecutionStepFailureInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepFailureOutput, error) {
	a.mu.Lock()
	a.failures = append(a.failures, *in)
	a.mu.Unlock()
	return a.Client.SendPipelineExecutionStepFailure(ctx, in, opts...)
}

func (a *answerCounter) SendPipelineExecutionStepSuccess(ctx context.Context, in *sagemaker.SendPipelineExecutionStepSuccessInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepSuccessOutput, error) {
	a.mu.Lock()
	a.success = append(a.success, *in)
	a.mu.Unlock()
	return a.Client.SendPipelineExecutionStepSuccess(ctx, in, opts...)
}

func (a *answerCounter) answers() (failures []sagemaker.SendPipelineExecutionStepFailureInput, success []sagemaker.SendPipelineExecutionStepSuccessInput) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append(failures, a.failures...), append(success, a.success...)
}

// fakeCleaner is a hand-written fake cleaner that records every call.
type fakeCleaner struct {
	mu    sync.Mutex
	calls []pipeline.Resource
	ctxs  []callback.Context
	fn    func(n int, r pipeline.Resource) error // n counts calls from 1
}

func (c *fakeCleaner) Clean(_ context.Context, r pipeline.Resource, cc callback.Context) error {
	c.mu.Lock()
	c.calls = append(c.calls, r)
	c.ctxs = append(c.ctxs, cc)
	n := len(c.calls)
	c.mu.Unlock()
	if c.fn == nil {
		return nil
	}
	return c.fn(n, r)
}

func (c *fakeCleaner) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

// lambdaRecorder is an httptest server speaking Lambda's Invoke REST path,
// recording each call.
type lambdaRecorder struct {
	URL   string
	mu    sync.Mutex
	calls []lambdaCall
}

type lambdaCall struct {
	function, invocationType string
	payload                  []byte
}

func newLambdaRecorder(t *testing.T) *lambdaRecorder {
	l := &lambdaRecorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const prefix, suffix = "/2015-03-31/functions/", "/invocations"
		if !strings.HasPrefix(r.URL.Path, prefix) || !strings.HasSuffix(r.URL.Path, suffix) || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		l.mu.Lock()
		l.calls = append(l.calls, lambdaCall{function: strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, prefix), suffix), invocationType: r.Header.Get("X-Amz-Invocation-Type"), payload: body})
		l.mu.Unlock()
		w.WriteHeader(http.StatusAccepted) // what Lambda answers an Event invocation
	}))
	t.Cleanup(srv.Close)
	l.URL = srv.URL
	return l
}

func (l *lambdaRecorder) Calls() []lambdaCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]lambdaCall(nil), l.calls...)
}

// cbWorld is a testbed with the callback use case over the emulator and
// DynamoDB Local, and fakes for the cleaners.
type cbWorld struct {
	*world
	answers  *answerCounter
	cleaner  *fakeCleaner
	lambda   *lambdaRecorder
	cb       *coordinator.Service
	deps     coordinator.Deps
	inbox    []message // callback messages received and not yet taken
	outcome  coordinator.StopOutcome
	messages atomic.Int64
}

type message struct {
	body string
	m    callback.Message
}

func newCBWorld(t *testing.T, cleaner *fakeCleaner, opts ...testbed.Option) *cbWorld {
	t.Helper()
	w := &cbWorld{world: newWorld(t, opts...), cleaner: cleaner}
	w.answers = &answerCounter{Client: w.SageMaker}
	w.lambda = newLambdaRecorder(t)
	cfg, err := localaws.Config(w.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	lam := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(w.lambda.URL) })
	w.deps = coordinator.Deps{
		Ledger: w.Ledger, SageMaker: w.answers, Workers: worker.Lambda{Client: lam}, SQS: w.SQS, Cleaner: cleaner,
		Access:  pipeline.AllowList{Accounts: []string{account}},
		Scope:   everything,
		Outcome: func(p string) (bool, map[string]string) { return w.stopOutcome(p) },
	}
	w.cb = coordinator.New(w.deps)
	return w
}

// useLedger sends the callback use case's ledger calls through l.
func (w *cbWorld) useLedger(l coordinator.Ledger) {
	w.deps.Ledger = l
	w.cb = coordinator.New(w.deps)
}

// useSageMaker sends the callback use case's SageMaker calls through sm.
func (w *cbWorld) useSageMaker(sm coordinator.SageMaker) {
	w.deps.SageMaker = sm
	w.cb = coordinator.New(w.deps)
}

func (w *cbWorld) stopOutcome(p string) (bool, map[string]string) {
	if w.outcome == nil {
		return false, nil
	}
	return w.outcome(p)
}

// next takes the next callback message of the execution with the status
// from the callback queue the emulator sends to.
func (w *cbWorld) next(t *testing.T, arn string, status callback.Status) message {
	t.Helper()
	var got message
	w.Eventually(fmt.Sprintf("a %s message for %s", status, arn), func() bool {
		for i, m := range w.inbox {
			if m.m.ExecutionARN.String() == arn && m.m.Status == status {
				got = m
				w.inbox = append(w.inbox[:i], w.inbox[i+1:]...)
				return true
			}
		}
		out, err := w.SQS.ReceiveMessage(w.Ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.CallbackQueue), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			body := aws.ToString(msg.Body)
			m, err := callback.Parse(body)
			if err != nil {
				t.Fatalf("the emulator sent a message the parser refuses: %v\n%s", err, body)
			}
			w.inbox = append(w.inbox, message{body: body, m: m})
			if _, err := w.SQS.DeleteMessage(w.Ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(w.CallbackQueue), ReceiptHandle: msg.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		return false
	})
	return got
}

// deliver hands a message body to the use case as a fresh delivery.
func (w *cbWorld) deliver(body string, receiveCount int) (coordinator.CallbackResult, error) {
	return w.cb.HandleCallback(w.Ctx, coordinator.Delivery{MessageID: fmt.Sprintf("msg-%d", w.messages.Add(1)), Body: body, ReceiveCount: receiveCount})
}

// redeliver hands a message body to the use case as a redelivery of the
// same SQS message.
func (w *cbWorld) redeliver(id, body string, receiveCount int) (coordinator.CallbackResult, error) {
	return w.cb.HandleCallback(w.Ctx, coordinator.Delivery{MessageID: id, Body: body, ReceiveCount: receiveCount})
}

func callbackStepWith(name, queue string, args map[string]any) string {
	a, _ := json.Marshal(args)
	return fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":%s,"OutputParameters":[{"OutputName":"out","OutputType":"String"}]}`, name, queue, a)
}

const sfnARN = "arn:aws:states:us-east-1:123456789012:execution:etl:run-1"

// registeredThenStopping delivers the execution's start message, stops the
// execution gracefully and returns the start and the Stopping message.
func (w *cbWorld) registeredThenStopping(t *testing.T, arn string) (start, stopping message) {
	t.Helper()
	start = w.next(t, arn, callback.StatusExecuting)
	if _, err := w.deliver(start.body, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	return start, w.next(t, arn, callback.StatusStopping)
}
