package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/eventrelay"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// world is the local stand-in for the deployed wiring: the emulator puts
// its events on moto's default bus, a rule per test routes this test's
// pipeline to a queue, and the relay invokes the built function under
// aws-lambda-rie with each event.
type world struct {
	*testbed.Bed
	t      *testing.T
	eb     *eventbridge.Client
	queue  string
	fn     *rie.Function
	events string // the emulator's own record of what it sent
	mu     sync.Mutex
	after  func(payload []byte) // called after each invocation
	// invoked counts the function's successful invocations: the progress
	// a test waits on, so a slow machine makes a long wait, not a
	// failure. (Failed ones are retried without end, so they do not count.)
	invoked  atomic.Int64
	lastDiff string // guarded by mu
}

func newWorld(t *testing.T, sw emulator.Switches) *world {
	t.Helper()
	events := filepath.Join(t.TempDir(), "events.jsonl")
	b := testbed.New(t, func(o *emulator.Options) {
		o.EventBridgeEndpoint = o.SQSEndpoint // moto serves both
		o.EventsFile = events
		o.Switches = sw
		// Jobs of 20 to 50 modelled seconds end within a wall-clock second,
		// and the Lambda step's 300 s timeout lasts 6 s: long enough that a
		// busy machine never fails the step before the function answers (at
		// the testbed's default scale it would last 300 ms).
		o.TimeScale = 0.02
	})
	cfg, err := localaws.Config(b.Ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{Bed: b, t: t, events: events, queue: b.Queue("events"),
		eb: eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(b.MotoURL) })}
	return w
}

// route sends the events matching the pattern to the test's queue. moto's
// default bus is shared by the whole test binary, so every pattern names
// this test's pipeline or execution.
func (w *world) route(name, pattern string) {
	w.t.Helper()
	attrs, err := w.SQS.GetQueueAttributes(w.Ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(w.queue), AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		w.t.Fatal(err)
	}
	rule := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	if _, err := w.eb.PutRule(w.Ctx, &eventbridge.PutRuleInput{Name: aws.String(rule), EventPattern: aws.String(pattern)}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.eb.PutTargets(w.Ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), Targets: []ebtypes.Target{{Id: aws.String("fn"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() {
		w.eb.RemoveTargets(w.Ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), Ids: []string{"fn"}})
		w.eb.DeleteRule(w.Ctx, &eventbridge.DeleteRuleInput{Name: aws.String(rule)})
	})
}

// start runs the function under RIE with the policies and the relay;
// extraEnv adds settings.
func (w *world) start(policies string, extraEnv ...string) {
	w.t.Helper()
	env := append(localaws.Env(),
		"AWS_ENDPOINT_URL_SAGEMAKER="+w.SageMakerURL,
		"AWS_ENDPOINT_URL_DYNAMODB="+w.DynamoDBURL,
		"AWS_ENDPOINT_URL_SQS="+w.MotoURL,
		"AWS_LAMBDA_LOG_LEVEL=DEBUG",
		settings.TableName+"="+w.Table,
		settings.StopQueueURL+"="+w.Queue("stops"),
		settings.AllowedAccounts+"=123456789012",
		settings.Policies+"="+policies,
	)
	env = append(env, extraEnv...)
	w.fn = rie.StartT(w.t, rie.Spec{Bootstrap: testbed.Bootstrap(w.t, "."), Name: "status-events", Env: env})
	invoker := eventrelay.InvokerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		out, err := w.fn.Invoke(ctx, payload)
		if err == nil {
			w.invoked.Add(1)
		}
		w.mu.Lock()
		after := w.after
		w.mu.Unlock()
		if after != nil && err == nil {
			after(payload)
		}
		return out, err
	})
	relay, err := eventrelay.New(w.SQS, eventrelay.Config{QueueURL: w.queue}, invoker, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	w.t.Cleanup(func() { cancel(); <-done })
}

func (w *world) pipelineARN(name string) string {
	return "arn:aws:sagemaker:us-east-1:123456789012:pipeline/" + name
}

func definition(steps ...string) string {
	s := `{"Version":"2020-12-01","Parameters":[],"Steps":[`
	for i, step := range steps {
		if i > 0 {
			s += ","
		}
		s += step
	}
	return s + "]}"
}

func job(name, kind string, ms int, fail string) string {
	x := fmt.Sprintf(`{"durationMs":%d}`, ms)
	if fail != "" {
		x = fmt.Sprintf(`{"durationMs":%d,"fail":%q}`, ms, fail)
	}
	return fmt.Sprintf(`{"Name":%q,"Type":%q,"Arguments":{},"x-emulator":%s}`, name, kind, x)
}

func callback(name, queue string) string {
	return fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":{},"OutputParameters":[]}`, name, queue)
}

const lambdaStep = `{"Name":"Score","Type":"Lambda","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:score","Timeout":300,"Arguments":{},"OutputParameters":[]}`

// TestLedgerMatchesSageMakerDespiteDuplicatesAndReordering runs a 6-step
// execution whose events are duplicated and reordered on the way, and
// checks that the ledger ends as ListPipelineExecutionSteps says.
func TestLedgerMatchesSageMakerDespiteDuplicatesAndReordering(t *testing.T) {
	w := newWorld(t, emulator.Switches{DuplicateEvents: 0.5, ReorderEvents: 0.5})
	pipe := w.CreatePipeline(definition(
		job("Prep", "Processing", 20000, ""), job("Train", "Training", 40000, ""), job("Tune", "Tuning", 30000, ""),
		job("Batch", "Transform", 50000, ""), lambdaStep, callback("Wait", w.CallbackQueue)))
	w.route("ledger", fmt.Sprintf(`{"source":["aws.sagemaker"],"detail":{"pipelineArn":[%q]}}`, w.pipelineARN(pipe)))
	w.start(`{"policies":[{"pipelines":["pipe-*"],"failFast":true}]}`)
	w.Lambda.Release()
	started := time.Now()
	arn := w.Start(pipe)
	wait := w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	if _, err := w.SageMaker.SendPipelineExecutionStepSuccess(w.Ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
		CallbackToken: wait.Metadata.Callback.CallbackToken, ClientRequestToken: aws.String(fmt.Sprintf("success-%032d", 1))}); err != nil {
		t.Fatal(err)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)
	want := w.Steps(arn)
	if len(want) != 6 {
		t.Fatalf("SageMaker lists %d steps, want 6", len(want))
	}
	parsed, _ := pipeline.ParseExecutionARN(arn)
	var view pipeline.View
	var differences []string
	invocations := func() int { return int(w.invoked.Load()) }
	w.EventuallyProgressing("the ledger to match ListPipelineExecutionSteps (the last differences are logged)", invocations, func() bool {
		var err error
		if view, err = w.Ledger.ReadExecution(w.Ctx, parsed); err != nil {
			t.Fatal(err)
		}
		if differences = diff(view, want); view.Execution == nil || view.Execution.Status != pipeline.ExecutionSucceeded {
			differences = append(differences, "execution not Succeeded in the ledger")
		}
		if len(differences) > 0 {
			w.mu.Lock()
			if w.lastDiff != strings.Join(differences, "; ") {
				w.lastDiff = strings.Join(differences, "; ")
				t.Logf("after %d invocations the ledger differs: %s", invocations(), w.lastDiff)
			}
			w.mu.Unlock()
		}
		return len(differences) == 0
	})
	elapsed := time.Since(started)
	for _, s := range view.Steps {
		if s.StepName == "Score" && (s.LambdaTimeout != 300*time.Second || s.FunctionARN == "") {
			t.Fatalf("Lambda step %+v: want the definition's 300 s timeout and the function", s)
		}
	}
	sent, unique := countEvents(t, w.events)
	t.Logf("6-step execution: %d events sent (%d distinct, so %d duplicates; reordering on), ledger matched %s after the start", sent, unique, sent-unique, elapsed.Round(time.Millisecond))
	if sent == unique {
		t.Fatal("no event was duplicated: the test did not test what it says")
	}
}

// diff lists how the ledger's steps differ from SageMaker's.
func diff(v pipeline.View, want map[string]smtypes.PipelineExecutionStep) []string {
	got := map[string]pipeline.Step{}
	for _, s := range v.Steps {
		got[s.StepName] = s
	}
	var out []string
	for name, s := range want {
		g, ok := got[name]
		switch {
		case !ok:
			out = append(out, name+" missing")
		case string(g.Status) != string(s.StepStatus):
			out = append(out, fmt.Sprintf("%s status %s, SageMaker %s", name, g.Status, s.StepStatus))
		case s.EndTime != nil && g.EndedAt.Unix() != s.EndTime.Unix():
			out = append(out, fmt.Sprintf("%s ended %v, SageMaker %v", name, g.EndedAt, s.EndTime))
		case s.Metadata.Callback != nil && g.CallbackToken != aws.ToString(s.Metadata.Callback.CallbackToken),
			s.Metadata.Lambda != nil && g.FunctionARN != aws.ToString(s.Metadata.Lambda.Arn),
			s.Metadata.TrainingJob != nil && g.JobARN != aws.ToString(s.Metadata.TrainingJob.Arn),
			s.Metadata.ProcessingJob != nil && g.JobARN != aws.ToString(s.Metadata.ProcessingJob.Arn),
			s.Metadata.TransformJob != nil && g.JobARN != aws.ToString(s.Metadata.TransformJob.Arn):
			out = append(out, name+" metadata differs")
		}
	}
	if len(got) != len(want) {
		out = append(out, fmt.Sprintf("%d steps in the ledger, %d in SageMaker", len(got), len(want)))
	}
	sort.Strings(out)
	return out
}

// countEvents counts the events in the emulator's file. Only whole lines
// count: the emulator may be appending one as the file is read.
func countEvents(t *testing.T, path string) (sent, unique int) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndexByte(raw, '\n'); i >= 0 {
		raw = raw[:i+1]
	} else {
		raw = nil
	}
	ids := map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSuffix(raw, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("event line %q: %v", line, err)
		}
		sent++
		ids[ev.ID] = true
	}
	return sent, len(ids)
}

// TestFailFastStopsWithinOneEvent: the event of the failed step is the
// one that stops the execution.
func TestFailFastStopsWithinOneEvent(t *testing.T) {
	w := newWorld(t, emulator.Switches{})
	pipe := w.CreatePipeline(definition(job("Boom", "Training", 30000, "out of memory"), callback("Wait", w.CallbackQueue)))
	w.route("failfast", fmt.Sprintf(`{"source":["aws.sagemaker"],"detail":{"pipelineArn":[%q]}}`, w.pipelineARN(pipe)))
	w.start(fmt.Sprintf(`{"policies":[{"pipelines":[%q],"failFast":true}]}`, pipe))
	statusAfterFailure := make(chan smtypes.PipelineExecutionStatus, 1)
	var started atomic.Value // the execution ARN, once known
	w.mu.Lock()
	w.after = func(payload []byte) {
		var ev struct {
			Detail struct {
				StepName string `json:"stepName"`
				Current  string `json:"currentStepStatus"`
			} `json:"detail"`
		}
		if json.Unmarshal(payload, &ev) == nil && ev.Detail.StepName == "Boom" && ev.Detail.Current == "Failed" {
			arn, _ := started.Load().(string)
			out, err := w.SageMaker.DescribePipelineExecution(w.Ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
			if err == nil {
				statusAfterFailure <- out.PipelineExecutionStatus
			}
		}
	}
	w.mu.Unlock()
	arn := w.Start(pipe)
	started.Store(arn)
	select {
	case got := <-statusAfterFailure:
		if got != smtypes.PipelineExecutionStatusStopping {
			t.Fatalf("after the failed step's event the execution is %s, want Stopping", got)
		}
	case <-time.After(procs.Scaled(testbed.WaitLimit)):
		t.Fatal("the failed step's event never reached the function")
	}
	parsed, _ := pipeline.ParseExecutionARN(arn)
	view, err := w.Ledger.ReadExecution(w.Ctx, parsed)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Stops) != 1 || view.Stops[0].ID != pipeline.StopID(parsed, "fail-fast") || view.Stops[0].RequestedBy != "policy fail-fast" {
		t.Fatalf("stops %+v, want the fail-fast stop", view.Stops)
	}
}

// TestRetentionSettingSetsTheLedgersExpiry runs the built function with
// STOPCOORD_RETENTION set, and checks that the ended execution's record
// expires that long after its end, not after the default.
func TestRetentionSettingSetsTheLedgersExpiry(t *testing.T) {
	w := newWorld(t, emulator.Switches{})
	pipe := w.CreatePipeline(definition(job("Prep", "Processing", 20000, "")))
	w.route("retention", fmt.Sprintf(`{"source":["aws.sagemaker"],"detail":{"pipelineArn":[%q]}}`, w.pipelineARN(pipe)))
	const retention = 72 * time.Hour
	w.start(`{"policies":[{"pipelines":["pipe-*"],"failFast":true}]}`, settings.Retention+"="+retention.String())
	arn := w.Start(pipe)
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)
	parsed, _ := pipeline.ParseExecutionARN(arn)
	var rec *pipeline.Execution
	w.EventuallyProgressing("the ledger to record the execution's end", func() int { return int(w.invoked.Load()) }, func() bool {
		view, err := w.Ledger.ReadExecution(w.Ctx, parsed)
		if err != nil {
			t.Fatal(err)
		}
		rec = view.Execution
		return rec != nil && rec.Status == pipeline.ExecutionSucceeded
	})
	if want := rec.EndedAt.Add(retention).Unix(); rec.ExpiresAt != want {
		t.Fatalf("expiresAt %s, want %s: the end plus %s", time.Unix(rec.ExpiresAt, 0).UTC(), time.Unix(want, 0).UTC(), retention)
	}
}

// TestStopRequestedEventStopsAnExecution puts a custom event on the bus,
// as a rule or a person would.
func TestStopRequestedEventStopsAnExecution(t *testing.T) {
	w := newWorld(t, emulator.Switches{})
	pipe := w.CreatePipeline(definition(callback("Wait", w.CallbackQueue)))
	w.start(`{}`)
	arn := w.Start(pipe)
	w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
	w.route("stop", fmt.Sprintf(`{"source":["stopcoord"],"detail-type":["Stop Requested"],"detail":{"pipelineExecutionArn":[%q]}}`, arn))
	detail, _ := json.Marshal(map[string]string{"pipelineExecutionArn": arn, "reason": "budget alarm", "mode": "graceful"})
	out, err := w.eb.PutEvents(w.Ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		Source: aws.String("stopcoord"), DetailType: aws.String("Stop Requested"), Detail: aws.String(string(detail))}}})
	if err != nil || out.FailedEntryCount != 0 || aws.ToString(out.Entries[0].EventId) == "" {
		t.Fatalf("put the stop event: %v %+v", err, out)
	}
	w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopping)
	parsed, _ := pipeline.ParseExecutionARN(arn)
	id := pipeline.StopID(parsed, "event:"+aws.ToString(out.Entries[0].EventId))
	var stops []pipeline.StopRequest
	w.Eventually("the event's stop request to be issued", func() bool {
		view, err := w.Ledger.ReadExecution(w.Ctx, parsed)
		if err != nil {
			t.Fatal(err)
		}
		stops = view.Stops
		return len(stops) == 1 && stops[0].ID == id && stops[0].Phase == pipeline.StopIssued && stops[0].Reason == "budget alarm"
	})
}
