package securitye2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/stack"
	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

const (
	account = "123456789012"
	// allowed is the stack's allow-list: pipelines named otherwise are
	// ones stopcoord may not touch.
	allowed = "sec-*"
	// scope is the stack's cleanup scope: Step Functions executions of
	// sec-* state machines, cleanup Lambdas sec-cleanup-*, workers
	// sec-worker-* and queues sec-work*. Anything named prod-* is outside.
	scope = `{"sfn-execution":["arn:aws:states:*:123456789012:execution:sec-*:*"],"lambda-cleanup":["sec-cleanup-*"],` +
		`"worker-lambda":["sec-worker-*"],"worker-queue":["*/sec-work*"]}`
	// worker and mallory are API callers (the gateway takes them from
	// X-Stopcoord-Caller on an unsigned local request).
	worker  = "arn:aws:sts::123456789012:assumed-role/etl-worker/etl-worker-session"
	mallory = "arn:aws:iam::123456789012:user/mallory"
)

func TestMain(m *testing.M) {
	code := testbed.RunTests(m)
	shared.mu.Lock()
	if shared.env != nil {
		shared.env.st.Close()
		shared.env.front.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// shared is one local stack per test binary: it takes a minute to
// synthesize and seconds to start.
var shared struct {
	mu  sync.Mutex
	dir string
	env *env
	err error
}

// env is the running stack and the views a test has of it.
type env struct {
	st       *stack.Stack
	front    *httptest.Server
	calls    *sageMakerCalls // every SageMaker call a function made
	logs     *logLines       // every line a function wrote
	sm       *sagemaker.Client
	sfn      *sfn.Client
	sqs      *sqs.Client
	events   *eventbridge.Client
	ledger   *ledger.Ledger
	lambdas  *lambdas
	template map[string]any
	// callbackQueue and stopBus are the stack's outputs.
	callbackQueue, stopBus string
	// started are the executions the tests started, for the token scan.
	startedMu sync.Mutex
	started   []string
}

// stackT starts the shared stack once: synthesized from ./infra with the
// allow-list and cleanup scope above, its functions' SageMaker calls
// passing a recording proxy, their logs kept.
func stackT(t *testing.T) *env {
	t.Helper()
	stack.RequireTools(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.env != nil || shared.err != nil {
		if shared.err != nil {
			t.Fatal(shared.err)
		}
		return shared.env
	}
	shared.env, shared.err = start(t)
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

func start(t *testing.T) (*env, error) {
	dir, err := os.MkdirTemp("", "stopcoord-security-e2e-")
	if err != nil {
		return nil, err
	}
	shared.dir = dir
	bin, functions, err := testbed.FunctionBootstraps(t, "../..", dir)
	if err != nil {
		return nil, err
	}
	template, err := testbed.Synthesize("../..", dir, functions, map[string]any{
		"stopcoord:allowedPipelines": allowed,
		"stopcoord:cleanupScope":     scope,
	})
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(template)
	if err != nil {
		return nil, err
	}
	e := &env{calls: &sageMakerCalls{}, logs: &logLines{}, lambdas: &lambdas{calls: map[string]*atomic.Int64{}}}
	if err := json.Unmarshal(raw, &e.template); err != nil {
		return nil, err
	}
	e.front = httptest.NewServer(e.calls)
	e.st, err = stack.Start(context.Background(), stack.Config{
		Template: template, BinDir: bin, GatewayAddr: "127.0.0.1:0",
		DynamoDBURL:   dynamodblocal.SharedT(t).URL,
		ScheduleEvery: 2 * time.Second, // the sweeper, often
		FunctionLogs:  e.logs,
		Env:           map[string]string{"AWS_ENDPOINT_URL_SAGEMAKER": e.front.URL},
		Emulator: func(o *emulator.Options) {
			o.JobDuration = time.Hour // a job runs until it is stopped
			o.StopDelay = 200 * time.Millisecond
		},
	})
	if err != nil {
		e.front.Close()
		return nil, err
	}
	e.calls.target.Store(e.st.SageMakerURL)
	e.sm = e.st.SageMakerClient()
	e.sqs = e.st.SQSClient()
	e.sfn = sfn.NewFromConfig(e.st.AWS, func(o *sfn.Options) { o.BaseEndpoint = aws.String(e.st.MotoURL) })
	e.events = eventbridge.NewFromConfig(e.st.AWS, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(e.st.MotoURL) })
	table, err := e.st.Output("LedgerTableName")
	if err != nil {
		return e, err
	}
	e.ledger = ledger.New(e.st.DynamoDBClient(), table)
	if e.callbackQueue, err = e.st.Output("CallbackQueueUrl"); err != nil {
		return e, err
	}
	if e.stopBus, err = e.st.Output("StopRequestBusName"); err != nil {
		return e, err
	}
	for _, name := range []string{"sec-cleanup-ok", "sec-worker-ok", "prod-payments-fn"} {
		e.st.Lambdas.Register(name, e.lambdas.function(name))
	}
	return e, nil
}

// sageMakerCalls is a recording proxy in front of the emulator, for the
// functions only (the tests talk to the emulator directly): what stopcoord
// asked of SageMaker, body and all.
type sageMakerCalls struct {
	target atomic.Value // the emulator's URL, once it runs
	mu     sync.Mutex
	calls  []sageMakerCall
}

type sageMakerCall struct {
	Op   string // "SendPipelineExecutionStepFailure"
	Body string
}

func (c *sageMakerCalls) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target, _ := c.target.Load().(string)
	if target == "" {
		http.Error(w, `{"__type":"ServiceUnavailable","message":"the emulator is not up yet"}`, http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	c.mu.Lock()
	c.calls = append(c.calls, sageMakerCall{Op: strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "SageMaker."), Body: string(body)})
	c.mu.Unlock()
	u, _ := url.Parse(target)
	httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
}

// count is how many calls of op (or any, if "") had a body holding every
// one of the strings.
func (c *sageMakerCalls) count(op string, holding ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
next:
	for _, call := range c.calls {
		if op != "" && call.Op != op {
			continue
		}
		for _, h := range holding {
			if !strings.Contains(call.Body, h) {
				continue next
			}
		}
		n++
	}
	return n
}

// answers counts the Send* calls naming the token.
func (c *sageMakerCalls) answers(token string) int {
	quoted, _ := json.Marshal(token)
	return c.count("SendPipelineExecutionStepFailure", string(quoted)) + c.count("SendPipelineExecutionStepSuccess", string(quoted))
}

// logLines keeps every line the functions wrote ("[callback] {...}").
type logLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// lines are the lines of one function ("" for all), without the prefix.
func (l *logLines) lines(fn string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	prefix := "[" + fn + "] "
	for sc.Scan() {
		line := sc.Text()
		if fn == "" {
			out = append(out, line)
		} else if rest, ok := strings.CutPrefix(line, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

func (l *logLines) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitLog waits until a line of fn holds every one of the strings, and
// returns it.
func (e *env) waitLog(t *testing.T, fn string, holding ...string) string {
	t.Helper()
	var found string
	testbed.Eventually(t, fmt.Sprintf("a %s log line with %q", fn, holding), func() bool {
	next:
		for _, line := range e.logs.lines(fn) {
			for _, h := range holding {
				if !strings.Contains(line, h) {
					continue next
				}
			}
			found = line
			return true
		}
		return false
	})
	return found
}

// sweeps is how many sweeper invocations have ended.
func (e *env) sweeps() int {
	n := 0
	for _, line := range e.logs.lines("sweeper") {
		if strings.Contains(line, "sweep done") {
			n++
		}
	}
	return n
}

// waitSweeps waits until the sweeper has run n more times: what a stop
// left behind has then been swept.
func (e *env) waitSweeps(t *testing.T, n int) {
	t.Helper()
	from := e.sweeps()
	testbed.Eventually(t, fmt.Sprintf("%d sweeper runs", n), func() bool { return e.sweeps() >= from+n })
}

// lambdas stand for the functions a step or a registration names: each
// counts its invocations.
type lambdas struct {
	mu    sync.Mutex
	calls map[string]*atomic.Int64
}

func (l *lambdas) function(name string) stack.Invoker {
	n := &atomic.Int64{}
	l.mu.Lock()
	l.calls[name] = n
	l.mu.Unlock()
	return invokerFunc(func(context.Context, []byte) ([]byte, error) {
		n.Add(1)
		return []byte(`{}`), nil
	})
}

func (l *lambdas) invocations(name string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls[name].Load()
}

type invokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f invokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

var seq atomic.Int64

// pipeline creates a pipeline named prefix-<n> with the steps.
func (e *env) pipeline(t *testing.T, prefix string, steps ...string) string {
	t.Helper()
	name := fmt.Sprintf("%s-%d-%d", prefix, os.Getpid()%10000, seq.Add(1))
	def := `{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.Join(steps, ",") + `]}`
	_, err := e.sm.CreatePipeline(context.Background(), &sagemaker.CreatePipelineInput{
		PipelineName: aws.String(name), PipelineDefinition: aws.String(def),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/pipelines"),
		ClientRequestToken: aws.String(fmt.Sprintf("create-%s-%032d", name, 0)),
	})
	if err != nil {
		t.Fatalf("create pipeline %s: %v", name, err)
	}
	return name
}

// callbackStep is a callback step sending to the stack's callback queue.
func (e *env) callbackStep(name string, args map[string]any) string {
	return callbackStepOn(e.callbackQueue, name, args)
}

// callbackStepOn is a callback step that sends its messages to queue.
func callbackStepOn(queue, name string, args map[string]any) string {
	if args == nil {
		args = map[string]any{}
	}
	a, _ := json.Marshal(args)
	return fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":%s,"OutputParameters":[]}`, name, queue, a)
}

const trainingStep = `{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"img"}}}`

// start starts an execution of the pipeline.
func (e *env) start(t *testing.T, pipelineName string) string {
	t.Helper()
	out, err := e.sm.StartPipelineExecution(context.Background(), &sagemaker.StartPipelineExecutionInput{
		PipelineName:       aws.String(pipelineName),
		ClientRequestToken: aws.String(fmt.Sprintf("start-%d-%032d", seq.Add(1), 0)),
	})
	if err != nil {
		t.Fatalf("start %s: %v", pipelineName, err)
	}
	arn := aws.ToString(out.PipelineExecutionArn)
	e.startedMu.Lock()
	e.started = append(e.started, arn)
	e.startedMu.Unlock()
	return arn
}

func (e *env) status(t *testing.T, arn string) smtypes.PipelineExecutionStatus {
	t.Helper()
	out, err := e.sm.DescribePipelineExecution(context.Background(), &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("describe %s: %v", arn, err)
	}
	return out.PipelineExecutionStatus
}

func (e *env) waitStatus(t *testing.T, arn string, want smtypes.PipelineExecutionStatus) {
	t.Helper()
	testbed.Eventually(t, fmt.Sprintf("%s to be %s", arn, want), func() bool { return e.status(t, arn) == want })
}

func (e *env) steps(t *testing.T, arn string) map[string]smtypes.PipelineExecutionStep {
	t.Helper()
	out, err := e.sm.ListPipelineExecutionSteps(context.Background(), &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatalf("list steps of %s: %v", arn, err)
	}
	steps := map[string]smtypes.PipelineExecutionStep{}
	for _, s := range out.PipelineExecutionSteps {
		steps[aws.ToString(s.StepName)] = s
	}
	return steps
}

func (e *env) waitStep(t *testing.T, arn, step string, want smtypes.StepStatus) smtypes.PipelineExecutionStep {
	t.Helper()
	var got smtypes.PipelineExecutionStep
	testbed.Eventually(t, fmt.Sprintf("step %s of %s to be %s", step, arn, want), func() bool {
		got = e.steps(t, arn)[step]
		return got.StepStatus == want
	})
	return got
}

// token is the callback token of a step SageMaker lists as Executing.
func (e *env) token(t *testing.T, arn, step string) string {
	t.Helper()
	s := e.waitStep(t, arn, step, smtypes.StepStatusExecuting)
	if s.Metadata == nil || s.Metadata.Callback == nil {
		t.Fatalf("step %s has no callback metadata", step)
	}
	return aws.ToString(s.Metadata.Callback.CallbackToken)
}

// waitRecorded waits until the ledger holds the token under the
// execution: the callback function has taken its start message.
func (e *env) waitRecorded(t *testing.T, arn, token string) {
	t.Helper()
	parsed := mustARN(t, arn)
	testbed.Eventually(t, "the callback token to be recorded", func() bool {
		_, err := e.ledger.GetToken(context.Background(), parsed, token)
		return err == nil
	})
}

func mustARN(t *testing.T, arn string) pipeline.ExecutionARN {
	t.Helper()
	p, err := pipeline.ParseExecutionARN(arn)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// api calls the local HTTP API as caller and decodes the JSON answer.
func (e *env) api(t *testing.T, method, path, caller string, body any) (int, map[string]any, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.st.GatewayURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(stack.CallerHeader, caller)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s: %d %q is not JSON", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out, string(raw)
}

// executionPath is the API's path of an execution.
func executionPath(t *testing.T, arn string) string {
	p := mustARN(t, arn)
	return "/pipelines/" + p.Pipeline + "/executions/" + p.ExecutionID
}

// register is PUT /callbacks/{token}/resources.
func (e *env) register(t *testing.T, caller, token, arn string, resources ...pipeline.Resource) (int, map[string]any) {
	t.Helper()
	status, body, _ := e.api(t, "PUT", "/callbacks/"+url.PathEscape(token)+"/resources", caller,
		map[string]any{"pipelineExecutionArn": arn, "resources": resources})
	return status, body
}

// stop is a graceful (or force) stop through the API.
func (e *env) stop(t *testing.T, arn, mode string) map[string]any {
	t.Helper()
	status, body, _ := e.api(t, "POST", executionPath(t, arn)+"/stops", worker, map[string]string{"reason": "security e2e", "mode": mode})
	if status != http.StatusAccepted {
		t.Fatalf("stop %s: %d %v", arn, status, body)
	}
	return body
}

// stateMachineExecution starts a Step Functions execution on moto of a
// state machine with the name, and returns its ARN.
func (e *env) stateMachineExecution(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	sm, err := e.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(fmt.Sprintf("%s-%d", name, seq.Add(1))),
		Definition: aws.String(`{"StartAt":"Wait","States":{"Wait":{"Type":"Wait","Seconds":3600,"End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/sfn"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := e.sfn.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(ex.ExecutionArn)
}

func (e *env) sfnStatus(t *testing.T, arn string) string {
	t.Helper()
	out, err := e.sfn.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Status)
}

// messages is how many messages the queue holds, visible or not.
func (e *env) messages(t *testing.T, queueURL string) int {
	t.Helper()
	out, err := e.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	var a, b int
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessages"], &a)
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessagesNotVisible"], &b)
	return a + b
}

// ruleQueue is the queue the local stack relays a rule's events through
// (EventBridge's own delivery to the function, locally), found by the
// rule's pattern in the template.
func (e *env) ruleQueue(t *testing.T, patternHolds string) string {
	t.Helper()
	resources, _ := e.template["Resources"].(map[string]any)
	var ids []string
	for id, r := range resources {
		r := r.(map[string]any)
		if r["Type"] != "AWS::Events::Rule" {
			continue
		}
		props, _ := r["Properties"].(map[string]any)
		p, _ := json.Marshal(props["EventPattern"])
		if props["EventPattern"] != nil && strings.Contains(string(p), patternHolds) {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("rules whose pattern holds %q: %v, want one", patternHolds, ids)
	}
	out, err := e.sqs.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("StopCoord-rule-" + ids[0])})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}
