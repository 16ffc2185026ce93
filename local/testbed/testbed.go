// Package testbed puts the local parts together for tests that cross them:
// moto_server (SQS), the SageMaker Pipelines emulator sending callback
// messages to it, and a fresh ledger table on DynamoDB Local, each with a
// ready SDK client. moto and DynamoDB Local are shared by the tests of one
// binary (call RunTests from TestMain); every test gets its own emulator,
// table and queue names.
package testbed

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
	"github.com/stopcoord/stopcoord/shared/ledger"
)

// TimeScale is the emulator's time scale in a testbed: a modelled second
// lasts a millisecond.
const TimeScale = 0.001

// Bed is one test's set of local parts.
type Bed struct {
	t         testing.TB
	Ctx       context.Context
	MotoURL   string
	SQS       *sqs.Client
	Emulator  *emulator.Emulator
	SageMaker *sagemaker.Client
	// SageMakerURL is the emulator's endpoint, for functions under RIE.
	SageMakerURL  string
	DynamoDB      *dynamodb.Client
	DynamoDBURL   string
	Table         string
	Ledger        *ledger.Ledger
	CallbackQueue string // URL of the queue callback steps send to
	Lambda        *LambdaStub
}

var sharedMoto struct {
	once sync.Once
	srv  *moto.Server
	err  error
}

var seq atomic.Int64

// Option adjusts the emulator before it starts.
type Option func(*emulator.Options)

// New starts a testbed for the test.
func New(t testing.TB, opts ...Option) *Bed {
	t.Helper()
	ctx := context.Background()
	motoPath := procs.RequireTool(t, "moto_server", moto.InstallHint)
	sharedMoto.once.Do(func() { sharedMoto.srv, sharedMoto.err = moto.Start(ctx, motoPath) })
	if sharedMoto.err != nil {
		t.Fatal(sharedMoto.err)
	}
	cfg, err := localaws.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := &Bed{t: t, Ctx: ctx, MotoURL: sharedMoto.srv.URL}
	b.SQS = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(b.MotoURL) })
	b.CallbackQueue = b.Queue("callbacks")
	b.Lambda = newLambdaStub(t)

	eo := emulator.Options{
		SQSEndpoint: b.MotoURL,
		TimeScale:   TimeScale,
		JobDuration: 10 * time.Hour, // 36 s at TimeScale: jobs keep running while a test acts
		StopDelay:   time.Second,
		Lambda:      map[string]emulator.LambdaEndpoint{"*": {URL: b.Lambda.URL}},
	}
	for _, o := range opts {
		o(&eo)
	}
	srv := emulatortest.StartT(t, eo)
	b.Emulator, b.SageMaker, b.SageMakerURL = srv.Emulator, srv.Client, srv.URL

	b.DynamoDB, b.Table = dynamodblocal.ClientT(t)
	b.DynamoDBURL = dynamodblocal.SharedT(t).URL
	if err := ledger.CreateTable(ctx, b.DynamoDB, b.Table); err != nil {
		t.Fatal(err)
	}
	b.Ledger = ledger.New(b.DynamoDB, b.Table)
	return b
}

// RunTests runs the tests, then stops the shared moto_server and DynamoDB
// Local and removes the bootstraps built for them:
//
//	func TestMain(m *testing.M) { os.Exit(testbed.RunTests(m)) }
func RunTests(m *testing.M) int {
	return dynamodblocal.RunTests(&stopMoto{m})
}

type stopMoto struct{ m *testing.M }

func (s *stopMoto) Run() int {
	code := s.m.Run()
	if sharedMoto.srv != nil {
		sharedMoto.srv.Stop()
	}
	removeBootstraps()
	return code
}

// Queue creates an SQS queue with a name unique to this binary and
// returns its URL.
func (b *Bed) Queue(prefix string) string {
	b.t.Helper()
	out, err := b.SQS.CreateQueue(b.Ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano()%1e6, seq.Add(1))),
		Attributes: map[string]string{"VisibilityTimeout": "2"},
	})
	if err != nil {
		b.t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// CreatePipeline creates a pipeline with the definition and returns its name.
func (b *Bed) CreatePipeline(definition string) string {
	b.t.Helper()
	name := fmt.Sprintf("pipe-%d", seq.Add(1))
	_, err := b.SageMaker.CreatePipeline(b.Ctx, &sagemaker.CreatePipelineInput{
		PipelineName:       aws.String(name),
		PipelineDefinition: aws.String(definition),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/pipelines"),
		ClientRequestToken: aws.String(fmt.Sprintf("create-%s-%032d", name, 0)),
	})
	if err != nil {
		b.t.Fatalf("create pipeline: %v", err)
	}
	return name
}

// Start starts an execution and returns its ARN.
func (b *Bed) Start(pipelineName string) string {
	b.t.Helper()
	out, err := b.SageMaker.StartPipelineExecution(b.Ctx, &sagemaker.StartPipelineExecutionInput{
		PipelineName:       aws.String(pipelineName),
		ClientRequestToken: aws.String(fmt.Sprintf("start-%d-%032d", seq.Add(1), 0)),
	})
	if err != nil {
		b.t.Fatalf("start %s: %v", pipelineName, err)
	}
	return aws.ToString(out.PipelineExecutionArn)
}

// Status is the emulator's status of an execution.
func (b *Bed) Status(arn string) smtypes.PipelineExecutionStatus {
	b.t.Helper()
	out, err := b.SageMaker.DescribePipelineExecution(b.Ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		b.t.Fatalf("describe %s: %v", arn, err)
	}
	return out.PipelineExecutionStatus
}

// Steps lists an execution's started steps by name.
func (b *Bed) Steps(arn string) map[string]smtypes.PipelineExecutionStep {
	b.t.Helper()
	steps := map[string]smtypes.PipelineExecutionStep{}
	p := sagemaker.NewListPipelineExecutionStepsPaginator(b.SageMaker, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(b.Ctx)
		if err != nil {
			b.t.Fatalf("list steps of %s: %v", arn, err)
		}
		for _, s := range page.PipelineExecutionSteps {
			steps[aws.ToString(s.StepName)] = s
		}
	}
	return steps
}

// WaitStatus waits until the execution has the status.
func (b *Bed) WaitStatus(arn string, want smtypes.PipelineExecutionStatus) {
	b.t.Helper()
	b.Eventually(fmt.Sprintf("%s to be %s", arn, want), func() bool { return b.Status(arn) == want })
}

// WaitStep waits until a step has the status and returns it.
func (b *Bed) WaitStep(arn, step string, want smtypes.StepStatus) smtypes.PipelineExecutionStep {
	b.t.Helper()
	var got smtypes.PipelineExecutionStep
	b.Eventually(fmt.Sprintf("step %s to be %s", step, want), func() bool {
		got = b.Steps(arn)[step]
		return got.StepStatus == want
	})
	return got
}

// Eventually polls cond every 10 ms for up to 20 s.
func (b *Bed) Eventually(what string, cond func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// LambdaStub is an HTTP stand-in for a Lambda step's function that holds
// every call until the test releases it.
type LambdaStub struct {
	URL     string
	calls   atomic.Int64
	release chan struct{}
	once    sync.Once
}

func newLambdaStub(t testing.TB) *LambdaStub {
	l := &LambdaStub{release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.calls.Add(1)
		select {
		case <-l.release:
		case <-r.Context().Done():
			return
		}
		w.Write([]byte(`{"done": true}`))
	}))
	t.Cleanup(func() { l.Release(); srv.Close() })
	l.URL = srv.URL
	return l
}

// Calls is how many times the function was invoked.
func (l *LambdaStub) Calls() int64 { return l.calls.Load() }

// Release lets every held and future call finish.
func (l *LambdaStub) Release() { l.once.Do(func() { close(l.release) }) }
