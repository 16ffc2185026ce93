package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/apigw"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sqspoller"
	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

const caller = "arn:aws:sts::123456789012:assumed-role/ops/ops-session"

// buildBootstraps builds the stop API's and the stop queue's bootstraps,
// once per test binary.
func buildBootstraps(t *testing.T) (string, string) {
	t.Helper()
	return testbed.Bootstrap(t, "."), testbed.Bootstrap(t, "../stop-queue")
}

// functionEnv is the environment a function gets under RIE: the local
// endpoints through the SDK's AWS_ENDPOINT_URL_* variables, so the code has
// no local mode.
func functionEnv(b *testbed.Bed, sageMakerURL, stopQueue string, extra ...string) []string {
	return append(append(localaws.Env(),
		"AWS_ENDPOINT_URL_SAGEMAKER="+sageMakerURL,
		"AWS_ENDPOINT_URL_DYNAMODB="+b.DynamoDBURL,
		"AWS_ENDPOINT_URL_SQS="+b.MotoURL,
		settings.TableName+"="+b.Table,
		settings.StopQueueURL+"="+stopQueue,
		settings.AllowedAccounts+"=123456789012",
	), extra...)
}

type api struct {
	t  *testing.T
	fn *rie.Function
}

func (a api) call(r apigw.Request) (int, map[string]any) {
	a.t.Helper()
	if r.CallerARN == "" {
		r.CallerARN = caller
	}
	out, err := a.fn.Invoke(context.Background(), apigw.Marshal(r))
	if err != nil {
		a.t.Fatalf("invoke %s: %v\n%s", r.RouteKey, err, a.fn.Output())
	}
	resp, err := apigw.Response(out)
	if err != nil {
		a.t.Fatal(err)
	}
	checkOpenAPI(a.t, apigw.Event(r), resp)
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		a.t.Fatalf("%s: body %q is not JSON", r.RouteKey, resp.Body)
	}
	return resp.StatusCode, body
}

func (a api) stop(arn, mode, key string) (int, map[string]any) {
	body, _ := json.Marshal(map[string]string{"pipelineExecutionArn": arn, "mode": mode, "reason": "integration test"})
	r := apigw.Request{Method: "POST", RouteKey: routeStop, Path: "/stops", Body: string(body)}
	if key != "" {
		r.Headers = map[string]string{"Idempotency-Key": key}
	}
	return a.call(r)
}

func (a api) execution(arn string) map[string]any {
	a.t.Helper()
	enc := url.PathEscape(arn)
	status, body := a.call(apigw.Request{Method: "GET", RouteKey: routeExecution, Path: "/executions/" + enc, PathParams: map[string]string{"executionArn": enc}})
	if status != 200 {
		a.t.Fatalf("GET execution: %d %v", status, body)
	}
	return body
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

func callbackStep(queue string) string {
	return fmt.Sprintf(`{"Name":"Wait","Type":"Callback","SqsQueueUrl":%q,"Arguments":{"job":"etl"},"OutputParameters":[]}`, queue)
}

const lambdaStep = `{"Name":"Fn","Type":"Lambda","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn","Timeout":300,"Arguments":{},"OutputParameters":[]}`

const trainingStep = `{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"img"}}}`

// TestStopAPIUnderRIE runs the built bootstrap under aws-lambda-rie against
// DynamoDB Local and the SageMaker emulator.
func TestStopAPIUnderRIE(t *testing.T) {
	b := testbed.New(t)
	calls := b.RecordSageMaker()
	apiBin, _ := buildBootstraps(t)
	a := api{t: t, fn: rie.StartT(t, rie.Spec{Bootstrap: apiBin, Name: "stop-api", Env: functionEnv(b, calls.URL, b.Queue("stops"))})}
	callbacks := b.CreatePipeline(definition(callbackStep(b.CallbackQueue)))

	t.Run("graceful stop shows the callback as blocking; a retry stops once", func(t *testing.T) {
		arn := b.Start(callbacks)
		b.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
		status, first := a.stop(arn, "graceful", "retry-key")
		if status != 202 {
			t.Fatalf("POST /stops: %d %v", status, first)
		}
		for range 2 {
			status, again := a.stop(arn, "graceful", "retry-key")
			if status != 202 || again["stop"].(map[string]any)["id"] != first["stop"].(map[string]any)["id"] {
				t.Fatalf("retried POST /stops: %d %v, want the first stop %v", status, again, first["stop"])
			}
		}
		if n := calls.Count("StopPipelineExecution"); n != 1 {
			t.Fatalf("StopPipelineExecution called %d times for one idempotency key, want 1", n)
		}
		view := a.execution(arn)
		open := view["blocking"].(map[string]any)["openCallbacks"].([]any)
		if view["status"] != "Stopping" || len(open) != 1 || open[0].(map[string]any)["stepName"] != "Wait" {
			t.Fatalf("execution view %v, want Stopping blocked by the callback step Wait", view)
		}
		id := first["stop"].(map[string]any)["id"].(string)
		status, stop := a.call(apigw.Request{Method: "GET", RouteKey: routeGetStop, Path: "/stops/" + id, PathParams: map[string]string{"id": id}})
		if status != 200 || stop["stop"].(map[string]any)["phase"] != "issued" || stop["stop"].(map[string]any)["requestedBy"] != caller {
			t.Fatalf("GET /stops/%s: %d %v", id, status, stop)
		}
	})

	t.Run("a running Lambda step is reported with its end-by time", func(t *testing.T) {
		arn := b.Start(b.CreatePipeline(definition(lambdaStep)))
		step := b.WaitStep(arn, "Fn", smtypes.StepStatusExecuting)
		b.Eventually("the function to be called", func() bool { return b.Lambda.Calls() > 0 })
		if status, body := a.stop(arn, "", ""); status != 202 {
			t.Fatalf("POST /stops: %d %v", status, body)
		}
		lambdas := a.execution(arn)["blocking"].(map[string]any)["runningLambdas"].([]any)
		if len(lambdas) != 1 {
			t.Fatalf("running lambdas %v", lambdas)
		}
		endsBy, err := time.Parse(time.RFC3339Nano, lambdas[0].(map[string]any)["endsBy"].(string))
		if want := step.StartTime.Add(300 * time.Second); err != nil || !endsBy.Equal(want) {
			t.Fatalf("endsBy %v (%v), want %v: start + the step's 300 s timeout", endsBy, err, want)
		}
		b.Lambda.Release()
		b.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	})

	t.Run("force stop answers the token and the execution reaches Stopped", func(t *testing.T) {
		arn := b.Start(callbacks)
		wait := b.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
		status, body := a.stop(arn, "force", "")
		// The answer names the token by reference: whoever holds a token
		// can answer its step.
		answered, _ := body["answeredTokens"].([]any)
		token := aws.ToString(wait.Metadata.Callback.CallbackToken)
		if status != 202 || len(answered) != 1 || answered[0] != pipeline.TokenRef(token) {
			t.Fatalf("force stop: %d %v, want token %s answered", status, body, pipeline.TokenRef(token))
		}
		b.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)

		status, body = a.stop(arn, "", "")
		if status != 409 || body["code"] != "conflict" {
			t.Fatalf("stop of a Stopped execution: %d %v, want 409 conflict", status, body)
		}
	})

	t.Run("client mistakes are 4xx", func(t *testing.T) {
		unknown := "arn:aws:sagemaker:us-east-1:123456789012:pipeline/" + callbacks + "/execution/zzzzzzzzzzzz"
		other := "arn:aws:sagemaker:us-east-1:999999999999:pipeline/" + callbacks + "/execution/zzzzzzzzzzzz"
		for _, tc := range []struct {
			arn      string
			want     int
			wantCode string
		}{{unknown, 404, "not_found"}, {other, 403, "unauthorized"}, {"arn:aws:s3:::bucket", 400, "invalid"}} {
			if status, body := a.stop(tc.arn, "", ""); status != tc.want || body["code"] != tc.wantCode {
				t.Errorf("stop %s: %d %v, want %d %s", tc.arn, status, body, tc.want, tc.wantCode)
			}
		}
	})
}

// TestBulkStopWithinBudget stops 200 executions through the stop queue:
// the stop API queues them, a poller feeds the stop-queue function under
// RIE, and the function keeps to its SageMaker calls-per-second budget.
// It asserts on the calls counted per window, never on how long the whole
// took: a busy machine makes the run longer, not the test fail.
func TestBulkStopWithinBudget(t *testing.T) {
	// A budget below the rate the consumer reaches unlimited on an idle
	// machine (about 80 calls a second under -race), so there the limiter
	// is what holds it.
	const executions, budget = 200, 50
	b := testbed.New(t, func(o *emulator.Options) { o.MaxRunningExecutions = 1000 })
	apiBin, queueBin := buildBootstraps(t)
	// As deployed: visibility six times the consumer's timeout, so a batch
	// still being worked on is never delivered twice.
	consumerTimeout := procs.Scaled(2 * time.Minute)
	stopQueue := b.QueueWithVisibility("stops", 6*consumerTimeout)
	// The bulk stop queues 200 messages in one invocation; on a loaded
	// machine moto alone can take longer than the deployed 29 s, and the
	// API's timeout is not what this test is about.
	a := api{t: t, fn: rie.StartT(t, rie.Spec{Bootstrap: apiBin, Name: "stop-api", Timeout: procs.Scaled(5 * time.Minute),
		Env: functionEnv(b, b.SageMakerURL, stopQueue)})}
	consumerCalls := b.RecordSageMaker()
	consumer := rie.StartT(t, rie.Spec{Bootstrap: queueBin, Name: "stop-queue", Timeout: consumerTimeout,
		Env: functionEnv(b, consumerCalls.URL, stopQueue, settings.SageMakerCallsPerSecond+"="+strconv.Itoa(budget))})

	pipe := b.CreatePipeline(definition(trainingStep))
	arns := make([]string, executions)
	for i := range arns {
		arns[i] = b.Start(pipe)
	}

	status, body := a.call(apigw.Request{Method: "POST", RouteKey: routeBulkStop, Path: "/pipelines/" + pipe + "/stops",
		PathParams: map[string]string{"name": pipe}, Body: `{"reason":"bulk"}`})
	if status != 202 || body["count"] != float64(executions) {
		t.Fatalf("bulk stop: %d count=%v, want 202 with %d", status, body["count"], executions)
	}

	queueARN := "arn:aws:sqs:us-east-1:123456789012:" + lastSegment(stopQueue)
	poller := sqspoller.New(b.SQS, sqspoller.Config{QueueURL: stopQueue, QueueARN: queueARN, BatchSize: 10, ReportBatchItemFailures: true}, consumer, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- poller.Run(ctx) }()
	defer func() { cancel(); <-done }()

	started := time.Now()
	stops := func() int { return consumerCalls.Count("StopPipelineExecution") }
	b.EventuallyProgressing("every execution to be stopping or stopped", stops, func() bool {
		return stops() >= executions && queueEmpty(t, b, stopQueue)
	})
	elapsed := time.Since(started)
	for _, arn := range arns {
		if s := b.Status(arn); s != smtypes.PipelineExecutionStatusStopping && s != smtypes.PipelineExecutionStatusStopped {
			t.Fatalf("%s is %s after the bulk stop", arn, s)
		}
	}
	if n := stops(); n != executions {
		t.Fatalf("%d StopPipelineExecution calls for %d executions", n, executions)
	}
	// The bound holds however slow the machine. The consumer's limiter is
	// a token bucket holding one second's calls, so over any window of T
	// seconds it grants at most budget×(T+1). A call is counted by the
	// proxy after the limiter granted it, so a window can also count calls
	// granted just before it: at most one per stop in flight, and a batch
	// (10 records) is the most the consumer works on at once. Delays
	// between the limiter and the proxy can only spread calls out.
	const inFlight = 10
	for _, window := range []time.Duration{time.Second, 4 * time.Second} {
		limit := budget*(int(window/time.Second)+1) + inFlight
		if peak := consumerCalls.MaxInWindow(window); peak > limit {
			t.Fatalf("the consumer made %d SageMaker calls within %s, budget %d a second: at most %d may be granted", peak, window, budget, limit)
		}
	}
	t.Logf("%d executions stopped through the queue in %s; %d SageMaker calls, peak %d in a second (budget %d)",
		executions, elapsed.Round(time.Millisecond), consumerCalls.Count(""), consumerCalls.MaxInWindow(time.Second), budget)
}

func queueEmpty(t *testing.T, b *testbed.Bed, queue string) bool {
	out, err := b.SQS.GetQueueAttributes(b.Ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queue),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0"
}

func lastSegment(u string) string {
	for i := len(u) - 1; i >= 0; i-- {
		if u[i] == '/' {
			return u[i+1:]
		}
	}
	return u
}
