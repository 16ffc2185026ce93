package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// testScale makes a modelled second one millisecond.
const testScale = 0.001

// longJob is a simulated job's duration in modelled milliseconds that no
// test outlives: an hour at the test scale, so "still running" holds
// however busy the machine (the emulator's Close ends it).
const longJob = 3_600_000_000

const roleArn = "arn:aws:iam::123456789012:role/pipeline"

var (
	motoOnce sync.Once
	motoSrv  *moto.Server
	motoErr  error
	seq      atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if motoSrv != nil {
		motoSrv.Stop()
	}
	os.Exit(code)
}

// sharedMoto starts one moto_server for the whole package (0.4 s each would
// add up); every test isolates itself with its own queues and event bus.
func sharedMoto(t testing.TB) *moto.Server {
	t.Helper()
	path := procs.RequireTool(t, "moto_server", moto.InstallHint)
	motoOnce.Do(func() { motoSrv, motoErr = moto.Start(context.Background(), path) })
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	return motoSrv
}

// env is one emulator wired to moto: a callback queue, and an event bus
// whose rule routes every aws.sagemaker event to an events queue.
type env struct {
	t          testing.TB
	ctx        context.Context
	emu        *emulator.Emulator
	url        string
	sm         *sagemaker.Client
	sqs        *sqs.Client
	eb         *eventbridge.Client
	queueURL   string // callback steps' queue
	eventsURL  string // EventBridge rule target
	eventsFile string
	cfg        aws.Config
}

type envOption func(*emulator.Options)

// newEnv wires the emulator to moto SQS; events go to the file only (moto's
// PutEvents costs tens of milliseconds per entry, which adds up).
func newEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnvBus(t, false, opts...)
}

// newEnvWithBus also delivers events to moto's default event bus, where a
// rule with the pattern {"source":["aws.sagemaker"]} sends them to the
// events queue. The default bus is shared, so only one test uses it.
func newEnvWithBus(t testing.TB, opts ...envOption) *env {
	t.Helper()
	return newEnvBus(t, true, opts...)
}

func newEnvBus(t testing.TB, bus bool, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	m := sharedMoto(t)
	cfg, err := localaws.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, cfg: cfg}
	e.sqs = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(m.URL) })
	e.eb = eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(m.URL) })
	n := seq.Add(1)
	e.queueURL = e.createQueue(fmt.Sprintf("callbacks-%d", n))
	e.eventsFile = filepath.Join(t.TempDir(), "events.jsonl")
	o := emulator.Options{
		SQSEndpoint: m.URL, EventsFile: e.eventsFile,
		TimeScale: testScale, Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if bus {
		e.eventsURL = e.createQueue(fmt.Sprintf("events-%d", n))
		e.routeEvents("default")
		o.EventBridgeEndpoint = m.URL // EventBusName defaults to "default"
	}
	for _, f := range opts {
		f(&o)
	}
	emu, err := emulator.New(o)
	if err != nil {
		t.Fatalf("new emulator: %v", err)
	}
	srv := httptest.NewServer(emu.Handler())
	t.Cleanup(func() {
		srv.Close()
		// No deadline: under load, delivering the queued events to moto
		// takes long, and a Close that never ends fails the whole binary.
		if err := emu.Close(context.Background()); err != nil {
			t.Errorf("close emulator: %v", err)
		}
	})
	e.emu, e.url = emu, srv.URL
	e.sm = e.client()
	return e
}

// testWriter sends the emulator's warnings and errors to the test log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// routeEvents adds a rule on bus sending every aws.sagemaker event to the
// events queue (moto ignores Input/InputPath, so the whole envelope arrives).
func (e *env) routeEvents(bus string) {
	e.t.Helper()
	attrs, err := e.sqs.GetQueueAttributes(e.ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(e.eventsURL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		e.t.Fatalf("queue arn: %v", err)
	}
	rule := "sagemaker-" + bus
	if _, err := e.eb.PutRule(e.ctx, &eventbridge.PutRuleInput{
		Name: aws.String(rule), EventBusName: aws.String(bus),
		EventPattern: aws.String(`{"source":["aws.sagemaker"]}`),
	}); err != nil {
		e.t.Fatalf("put rule: %v", err)
	}
	if _, err := e.eb.PutTargets(e.ctx, &eventbridge.PutTargetsInput{
		Rule: aws.String(rule), EventBusName: aws.String(bus),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}},
	}); err != nil {
		e.t.Fatalf("put targets: %v", err)
	}
	e.t.Cleanup(func() {
		ctx := context.Background()
		_, _ = e.eb.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus), Ids: []string{"q"}})
		_, _ = e.eb.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule), EventBusName: aws.String(bus)})
	})
}

func (e *env) createQueue(name string) string {
	e.t.Helper()
	out, err := e.sqs.CreateQueue(e.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		e.t.Fatalf("create queue %s: %v", name, err)
	}
	return *out.QueueUrl
}

// client is a SageMaker client for the emulator; opts tune it (retries).
func (e *env) client(opts ...func(*sagemaker.Options)) *sagemaker.Client {
	return sagemaker.NewFromConfig(e.cfg, append([]func(*sagemaker.Options){func(o *sagemaker.Options) {
		o.BaseEndpoint = aws.String(e.url)
	}}, opts...)...)
}

// createPipeline creates a pipeline from a definition and returns its name.
func (e *env) createPipeline(def string) string {
	e.t.Helper()
	name := fmt.Sprintf("pipe-%d", seq.Add(1))
	if _, err := e.sm.CreatePipeline(e.ctx, &sagemaker.CreatePipelineInput{
		PipelineName: aws.String(name), PipelineDefinition: aws.String(def), RoleArn: aws.String(roleArn),
	}); err != nil {
		e.t.Fatalf("create pipeline: %v", err)
	}
	return name
}

func (e *env) start(pipeline string, params ...smtypes.Parameter) string {
	e.t.Helper()
	out, err := e.sm.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{
		PipelineName: aws.String(pipeline), PipelineParameters: params,
	})
	if err != nil {
		e.t.Fatalf("start execution: %v", err)
	}
	return *out.PipelineExecutionArn
}

func (e *env) stop(arn string) {
	e.t.Helper()
	if _, err := e.sm.StopPipelineExecution(e.ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}); err != nil {
		e.t.Fatalf("stop %s: %v", arn, err)
	}
}

func (e *env) status(arn string) smtypes.PipelineExecutionStatus {
	e.t.Helper()
	out, err := e.sm.DescribePipelineExecution(e.ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("describe %s: %v", arn, err)
	}
	return out.PipelineExecutionStatus
}

func (e *env) describe(arn string) *sagemaker.DescribePipelineExecutionOutput {
	e.t.Helper()
	out, err := e.sm.DescribePipelineExecution(e.ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		e.t.Fatalf("describe %s: %v", arn, err)
	}
	return out
}

// steps returns the execution's steps by name.
func (e *env) steps(arn string) map[string]smtypes.PipelineExecutionStep {
	e.t.Helper()
	out := map[string]smtypes.PipelineExecutionStep{}
	p := sagemaker.NewListPipelineExecutionStepsPaginator(e.sm, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		pg, err := p.NextPage(e.ctx)
		if err != nil {
			e.t.Fatalf("list steps of %s: %v", arn, err)
		}
		for _, s := range pg.PipelineExecutionSteps {
			out[*s.StepName] = s
		}
	}
	return out
}

// waitStatus waits until the execution has the status. A terminal status
// other than the one wanted can never change, so it fails at once.
func (e *env) waitStatus(arn string, want smtypes.PipelineExecutionStatus) {
	e.t.Helper()
	emulatortest.WaitFor(e.t, func() (bool, string) {
		d := e.describe(arn)
		got := d.PipelineExecutionStatus
		if got != want && isTerminal(string(got)) {
			e.t.Fatalf("execution ended %s (%s), want %s", got, deref(d.FailureReason), want)
		}
		return got == want, fmt.Sprintf("execution status %s, want %s", got, want)
	})
}

func isTerminal(status string) bool {
	return status == "Succeeded" || status == "Failed" || status == "Stopped"
}

// realTime makes modelled durations real (TimeScale 1), for tests whose
// subject is not a timeout: at the test scale a 60 s Lambda timeout is
// 60 ms, which a busy machine overruns.
func realTime(o *emulator.Options) { o.TimeScale = 1 }

func (e *env) waitStep(arn, step string, want smtypes.StepStatus) smtypes.PipelineExecutionStep {
	e.t.Helper()
	var s smtypes.PipelineExecutionStep
	emulatortest.WaitFor(e.t, func() (bool, string) {
		var ok bool
		s, ok = e.steps(arn)[step]
		if ok && s.StepStatus != want && isTerminal(string(s.StepStatus)) {
			e.t.Fatalf("step %s ended %s (%s), want %s", step, s.StepStatus, deref(s.FailureReason), want)
		}
		return ok && s.StepStatus == want, fmt.Sprintf("step %s status %q, want %s", step, s.StepStatus, want)
	})
	return s
}

// callbackMessage is a callback step's SQS message body, decoded loosely so
// tests can check exactly which keys are there.
type callbackMessage map[string]any

// receive waits for n messages on queue (deleting them) and returns their
// bodies. It waits as long as the test may run: under load moto and the
// emulator are slow, not wrong.
func (e *env) receive(queue string, n int) []string {
	e.t.Helper()
	var bodies []string
	emulatortest.WaitFor(e.t, func() (bool, string) {
		out, err := e.sqs.ReceiveMessage(e.ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		})
		if err != nil {
			e.t.Fatalf("receive from %s: %v", queue, err)
		}
		for _, m := range out.Messages {
			bodies = append(bodies, *m.Body)
			_, _ = e.sqs.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle})
		}
		return len(bodies) >= n, fmt.Sprintf("got %d messages on %s, want %d: %v", len(bodies), queue, n, bodies)
	})
	return bodies
}

func (e *env) callbackMessages(n int) []callbackMessage {
	e.t.Helper()
	var out []callbackMessage
	for _, b := range e.receive(e.queueURL, n) {
		var m callbackMessage
		if err := json.Unmarshal([]byte(b), &m); err != nil {
			e.t.Fatalf("callback message %q: %v", b, err)
		}
		out = append(out, m)
	}
	return out
}

// event is an EventBridge envelope as it arrives in the events queue or the
// events file.
type event struct {
	DetailType string         `json:"detail-type"`
	Source     string         `json:"source"`
	Resources  []string       `json:"resources"`
	Detail     map[string]any `json:"detail"`
}

// fileEvents reads the JSON-lines events file: complete lines only, as the
// emulator may be appending one right now.
func (e *env) fileEvents() []event {
	e.t.Helper()
	lines, err := emulatortest.EventLines(e.eventsFile)
	if err != nil {
		e.t.Fatalf("read events file: %v", err)
	}
	out := make([]event, 0, len(lines))
	for _, line := range lines {
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil {
			e.t.Fatalf("event line %q: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

// transitions lists "prev->current" per step (or "execution") in the order
// events were delivered.
func transitions(evs []event, arn string) map[string][]string {
	out := map[string][]string{}
	for _, ev := range evs {
		if ev.Detail["pipelineExecutionArn"] != arn {
			continue
		}
		if ev.DetailType == "SageMaker Model Building Pipeline Execution Status Change" {
			out["execution"] = append(out["execution"], fmt.Sprintf("%v->%v", orEmpty(ev.Detail["previousPipelineExecutionStatus"]), ev.Detail["currentPipelineExecutionStatus"]))
			continue
		}
		name := ev.Detail["stepName"].(string)
		out[name] = append(out[name], fmt.Sprintf("%v->%v", orEmpty(ev.Detail["previousStepStatus"]), ev.Detail["currentStepStatus"]))
	}
	return out
}

func orEmpty(v any) any {
	if v == nil {
		return ""
	}
	return v
}

var tokenPattern = regexp.MustCompile(`^[a-zA-Z0-9]{10}$`)

func itoa(n int) string { return fmt.Sprint(n) }

// doneTransitions waits until the events file holds the execution's
// terminal event and returns the transitions seen (delivery runs behind the
// API on its own goroutine).
func (e *env) doneTransitions(arn string) map[string][]string {
	e.t.Helper()
	var tr map[string][]string
	emulatortest.WaitFor(e.t, func() (bool, string) {
		tr = transitions(e.fileEvents(), arn)
		ex := tr["execution"]
		if len(ex) == 0 {
			return false, "no execution events"
		}
		last := ex[len(ex)-1]
		return strings.HasSuffix(last, "Stopped") || strings.HasSuffix(last, "Failed") || strings.HasSuffix(last, "Succeeded"),
			fmt.Sprint("execution transitions ", ex)
	})
	return tr
}

func receiveInput(queue string, waitSeconds int32) *sqs.ReceiveMessageInput {
	return &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds}
}

// newBareEnv is an emulator without moto: no SQS or EventBridge, events
// only in the file. Enough for tests that run job steps only.
func newBareEnv(t testing.TB, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	cfg, err := localaws.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, cfg: cfg, eventsFile: filepath.Join(t.TempDir(), "events.jsonl")}
	o := emulator.Options{EventsFile: e.eventsFile, TimeScale: testScale}
	for _, f := range opts {
		f(&o)
	}
	srv := emulatortest.StartT(t, o)
	e.emu, e.url = srv.Emulator, srv.URL
	e.sm = e.client()
	return e
}
