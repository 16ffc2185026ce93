package securitye2e

// One test per case of issue 12, each through the running stack. Every
// test says what the case was, then checks what an attacker would see:
// the API's answer, what SageMaker was asked (the proxy in front of the
// emulator), what Step Functions and the Lambda stand-ins saw, the ledger
// and the functions' own log lines.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// refusedRegistration checks a registration was refused with 404 or 409
// and a code, as the issue asks ("404 or 409 with a clear code").
func refusedRegistration(t *testing.T, what string, status int, body map[string]any) {
	t.Helper()
	switch {
	case status == http.StatusNotFound && body["code"] == "not_found",
		status == http.StatusConflict && body["code"] == "conflict":
	default:
		t.Fatalf("%s: %d %v, want 404 not_found or 409 conflict", what, status, body)
	}
	if msg, _ := body["message"].(string); msg == "" {
		t.Fatalf("%s: no message in %v", what, body)
	}
}

// answeredOnce checks SageMaker accepted exactly one answer for each of
// the execution's tokens.
func (e *env) answeredOnce(t *testing.T, arn string) {
	t.Helper()
	answers := e.st.Emulator.Answers(arn)
	if len(answers) == 0 {
		t.Fatalf("the emulator knows no callback token of %s", arn)
	}
	for _, a := range answers {
		if a.Accepted != 1 {
			t.Errorf("token of %s answered %d times at SageMaker, want once", a.StepName, a.Accepted)
		}
	}
}

// cleanups are the ledger's cleanups of an execution, by resource ID.
func (e *env) cleanups(t *testing.T, arn string) map[string]pipeline.Cleanup {
	t.Helper()
	v, err := e.ledger.ReadExecution(context.Background(), mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]pipeline.Cleanup{}
	for _, c := range v.Cleanups {
		out[c.Resource.ID] = c
	}
	return out
}

// Case 1: a caller read a step's token from the view, then registered a
// production task and a production function for it, and the next stop
// stopped and invoked them with stopcoord's rights; who registered them
// was dropped. Now the view has no token, a registration for a token that
// is not this execution's step's is refused, one outside the cleanup scope
// is refused, and an accepted one is kept with the caller's identity. The
// stop then touches only what was accepted.
func TestCase1RegistrationIsBoundToTheStepTheScopeAndTheCaller(t *testing.T) {
	e := stackT(t)
	arn := e.start(t, e.pipeline(t, "sec-reg", e.callbackStep("Wait", nil)))
	token := e.token(t, arn, "Wait")
	e.waitRecorded(t, arn, token)
	other := e.start(t, e.pipeline(t, "sec-other", e.callbackStep("Other", nil)))
	otherToken := e.token(t, other, "Other")
	prodRun := e.stateMachineExecution(t, "prod-payments") // outside the scope
	ownRun := e.stateMachineExecution(t, "sec-etl")        // inside

	status, _, raw := e.api(t, "GET", executionPath(t, arn), mallory, nil)
	if status != http.StatusOK || strings.Contains(raw, token) || !strings.Contains(raw, pipeline.TokenRef(token)) {
		t.Fatalf("GET the execution: %d %s\nwant 200 naming the token only as %s", status, raw, pipeline.TokenRef(token))
	}

	status, body := e.register(t, mallory, otherToken, arn, pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: ownRun})
	refusedRegistration(t, "another execution's token", status, body)

	status, body = e.register(t, mallory, token, arn,
		pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: prodRun},
		pipeline.Resource{Kind: pipeline.ResourceLambdaCleanup, ID: "prod-payments-fn"})
	if status != http.StatusForbidden || body["code"] != "unauthorized" {
		t.Fatalf("resources outside the cleanup scope: %d %v, want 403 unauthorized", status, body)
	}

	status, body = e.register(t, worker, token, arn, pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: ownRun, RegisteredBy: "forged in the body"})
	if status != http.StatusOK {
		t.Fatalf("the worker's registration: %d %v", status, body)
	}
	_, _, raw = e.api(t, "GET", executionPath(t, arn), mallory, nil)
	if !strings.Contains(raw, `"registeredBy":"`+worker+`"`) || strings.Contains(raw, "forged in the body") || strings.Contains(raw, prodRun) {
		t.Fatalf("view %s\nwant the resource kept with the caller's identity %s, and nothing of the refused ones", raw, worker)
	}

	e.stop(t, arn, "graceful")
	e.waitStatus(t, arn, smtypes.PipelineExecutionStatusStopped)
	if got := e.sfnStatus(t, ownRun); got != "ABORTED" {
		t.Errorf("the registered run is %s, want ABORTED", got)
	}
	if got := e.sfnStatus(t, prodRun); got != "RUNNING" {
		t.Errorf("the production run is %s: stopcoord acted on a resource it refused", got)
	}
	if n := e.lambdas.invocations("prod-payments-fn"); n != 0 {
		t.Errorf("the production function was invoked %d times", n)
	}
	e.answeredOnce(t, arn)
	if n := e.calls.answers(otherToken); n != 0 {
		t.Errorf("the other execution's token was answered %d times", n)
	}
	if got := e.steps(t, other)["Other"].StepStatus; got != smtypes.StepStatusExecuting {
		t.Errorf("the other execution's step is %s, want still Executing", got)
	}
}

// Case 2: PUT /callbacks/Zz00Zz00Zz/resources answered 200 "open", and
// after the stop closed the Step Functions execution registered that way
// was still running, the sweeper passing it by: accepted, then silently
// left running. Now the registration is refused, so the worker that
// started it knows to stop it, and stopcoord keeps nothing, invokes
// nothing and stops nothing for that token, sweep after sweep.
func TestCase2TokenTheExecutionNeverHadIsRefused(t *testing.T) {
	e := stackT(t)
	arn := e.start(t, e.pipeline(t, "sec-never", e.callbackStep("Wait", nil)))
	token := e.token(t, arn, "Wait")
	e.waitRecorded(t, arn, token)
	run := e.stateMachineExecution(t, "sec-etl") // inside the scope: only the token protects it
	cleanupFn := fmt.Sprintf("sec-cleanup-never-%d", seq.Add(1))
	e.st.Lambdas.Register(cleanupFn, e.lambdas.function(cleanupFn))

	const never = "Zz00Zz00Zz"
	status, body := e.register(t, worker, never, arn,
		pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: run},
		pipeline.Resource{Kind: pipeline.ResourceLambdaCleanup, ID: cleanupFn})
	refusedRegistration(t, "a token the execution never had", status, body)
	if _, err := e.ledger.GetToken(context.Background(), mustARN(t, arn), never); err == nil {
		t.Fatal("a record was made for the token")
	}

	e.stop(t, arn, "graceful")
	e.waitStatus(t, arn, smtypes.PipelineExecutionStatusStopped)
	e.waitSweeps(t, 2)
	if got := e.sfnStatus(t, run); got != "RUNNING" {
		t.Errorf("stopcoord stopped (%s) a run registered for a token it refused", got)
	}
	if n := e.lambdas.invocations(cleanupFn); n != 0 {
		t.Errorf("the cleanup function was invoked %d times", n)
	}
	if n := e.calls.answers(never); n != 0 {
		t.Errorf("%d answers sent for a token the execution never had", n)
	}
	e.answeredOnce(t, arn)
	v, err := e.ledger.ReadExecution(context.Background(), mustARN(t, arn))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Cleanups {
		if c.Resource.ID == run || c.Resource.ID == cleanupFn {
			t.Errorf("the ledger holds a cleanup of %s: %+v", c.Resource.ID, c)
		}
	}
}

// Case 3: anyone who may send to the callback queue (every pipeline
// execution role) names a cleanup Lambda, a resource or a worker in a
// callback step's arguments, and stopcoord acts on them verbatim. Now
// they are held to the cleanup scope: cleanups outside it are recorded
// refused with their reason, and a worker outside it is never handed the
// work (the step fails at once).
func TestCase3StepArgumentsOutsideTheScopeAreRefused(t *testing.T) {
	e := stackT(t)
	t.Run("cleanup targets", func(t *testing.T) {
		prodRun := e.stateMachineExecution(t, "prod-payments")
		ownRun := e.stateMachineExecution(t, "sec-etl")
		arn := e.start(t, e.pipeline(t, "sec-args",
			e.callbackStep("Outside", map[string]any{callback.ArgCleanupLambda: "prod-payments-fn", callback.ArgSFNExecutionARN: prodRun}),
			e.callbackStep("Inside", map[string]any{callback.ArgSFNExecutionARN: ownRun})))
		e.waitRecorded(t, arn, e.token(t, arn, "Outside"))
		e.waitRecorded(t, arn, e.token(t, arn, "Inside"))
		e.stop(t, arn, "graceful")
		e.waitStatus(t, arn, smtypes.PipelineExecutionStatusStopped)

		if got := e.sfnStatus(t, ownRun); got != "ABORTED" {
			t.Errorf("the run inside the scope is %s, want ABORTED", got)
		}
		if got := e.sfnStatus(t, prodRun); got != "RUNNING" {
			t.Errorf("the production run is %s: stopcoord acted on a step argument outside the scope", got)
		}
		if n := e.lambdas.invocations("prod-payments-fn"); n != 0 {
			t.Errorf("the production function was invoked %d times", n)
		}
		cleanups := e.cleanups(t, arn)
		for _, id := range []string{prodRun, "prod-payments-fn"} {
			c := cleanups[id]
			if c.Status != pipeline.CleanupRefused || !strings.Contains(c.LastError, "scope") {
				t.Errorf("cleanup of %s: %q %q, want refused with its reason", id, c.Status, c.LastError)
			}
		}
		e.answeredOnce(t, arn)
	})
	t.Run("worker queue", func(t *testing.T) {
		prodQueue := e.queue(t, "prod-work")
		ownQueue := e.queue(t, "sec-work")
		outside := e.start(t, e.pipeline(t, "sec-wq", e.callbackStep("Hand", map[string]any{callback.ArgWorkerQueue: prodQueue})))
		inside := e.start(t, e.pipeline(t, "sec-wq", e.callbackStep("Hand", map[string]any{callback.ArgWorkerQueue: ownQueue})))
		// The step inside the scope is handed to its worker: the control
		// that shows a hand-off would be seen.
		testbed.Eventually(t, "the work on the worker queue inside the scope", func() bool { return e.messages(t, ownQueue) >= 1 })
		e.waitStep(t, outside, "Hand", smtypes.StepStatusFailed)
		if n := e.messages(t, prodQueue); n != 0 {
			t.Errorf("%d messages on a worker queue outside the scope", n)
		}
		e.answeredOnce(t, outside)
		e.stop(t, inside, "force")
		e.waitStatus(t, inside, smtypes.PipelineExecutionStatusStopped)
	})
	t.Run("worker function", func(t *testing.T) {
		arn := e.start(t, e.pipeline(t, "sec-wl", e.callbackStep("Hand", map[string]any{callback.ArgWorkerLambda: "prod-payments-fn"})))
		e.waitStep(t, arn, "Hand", smtypes.StepStatusFailed)
		if n := e.lambdas.invocations("prod-payments-fn"); n != 0 {
			t.Errorf("a worker function outside the scope was invoked %d times", n)
		}
		e.answeredOnce(t, arn)
	})
}

// queue creates an SQS queue on moto whose name starts with prefix.
func (e *env) queue(t *testing.T, prefix string) string {
	t.Helper()
	out, err := e.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("%s-%d", prefix, seq.Add(1)))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// Case 4: a forged Stopping message carried the token of a pipeline that
// is not allow-listed next to the ARN of an allow-listed execution with no
// open callback, and the coordinator answered the foreign token. Now the
// message is rejected and nothing is sent to SageMaker for that token.
func TestCase4ForgedStoppingMessageAnswersNoForeignToken(t *testing.T) {
	e := stackT(t)
	foreign := e.start(t, e.pipeline(t, "other-payments", e.callbackStep("Charge", nil)))
	foreignToken := e.token(t, foreign, "Charge")
	allowedARN := e.start(t, e.pipeline(t, "sec-train", trainingStep))
	e.waitStep(t, allowedARN, "Train", smtypes.StepStatusExecuting)

	forged, _ := json.Marshal(callback.Context{Token: foreignToken, ExecutionARN: allowedARN, Arguments: map[string]any{}, Status: callback.StatusStopping})
	out, err := e.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(e.callbackQueue), MessageBody: aws.String(string(forged))})
	if err != nil {
		t.Fatal(err)
	}
	e.waitLog(t, "callback", "rejected callback message", aws.ToString(out.MessageId))

	if n := e.calls.answers(foreignToken); n != 0 {
		t.Errorf("%d Send* calls for the foreign token", n)
	}
	for _, a := range e.st.Emulator.Answers(foreign) {
		if a.Accepted != 0 {
			t.Errorf("SageMaker accepted an answer for the foreign step %s", a.StepName)
		}
	}
	if got := e.steps(t, foreign)["Charge"].StepStatus; got != smtypes.StepStatusExecuting {
		t.Errorf("the foreign step is %s, want still Executing", got)
	}
	if _, err := e.ledger.GetToken(context.Background(), mustARN(t, allowedARN), foreignToken); err == nil {
		t.Error("the foreign token was recorded under the allowed execution")
	}
}

// Case 5: anyone with events:PutEvents on the default bus could stop
// allow-listed executions, and the requester was not recorded. Now only
// events on stopcoord's own bus (whose policy the template tests hold)
// from its own account stop anything, and the stop records who asked.
func TestCase5StopRequestedOnlyFromTheStopBusAndThisAccount(t *testing.T) {
	e := stackT(t)
	name := e.pipeline(t, "sec-evt", e.callbackStep("Wait", nil))
	viaDefault, fromElsewhere, requested := e.start(t, name), e.start(t, name), e.start(t, name)
	for _, arn := range []string{viaDefault, fromElsewhere, requested} {
		e.waitRecorded(t, arn, e.token(t, arn, "Wait"))
	}
	put := func(bus, arn string) string {
		detail, _ := json.Marshal(map[string]string{"pipelineExecutionArn": arn, "reason": "security e2e", "mode": "graceful"})
		out, err := e.events.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
			Source: aws.String("stopcoord"), DetailType: aws.String("Stop Requested"), Detail: aws.String(string(detail)), EventBusName: aws.String(bus)}}})
		if err != nil || out.FailedEntryCount != 0 {
			t.Fatalf("put a Stop Requested event on %s: %v %+v", bus, err, out)
		}
		return aws.ToString(out.Entries[0].EventId)
	}

	// The default bus, where anyone with events:PutEvents could send.
	put("default", viaDefault)
	// An event from another account that got this far (the bus policy
	// refuses it; moto keeps one account, so it is put on the rule's
	// delivery queue as EventBridge would deliver it).
	rules := e.ruleQueue(t, `"Stop Requested"`)
	foreignEvent, _ := json.Marshal(map[string]any{"version": "0", "id": "foreign-event-1", "detail-type": "Stop Requested", "source": "stopcoord",
		"account": "999999999999", "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1", "resources": []string{},
		"detail": map[string]string{"pipelineExecutionArn": fromElsewhere, "reason": "from elsewhere"}})
	if _, err := e.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(rules), MessageBody: aws.String(string(foreignEvent))}); err != nil {
		t.Fatal(err)
	}
	// The stop request bus, from this account: honoured.
	id := put(e.stopBus, requested)

	// moto hands an event to its rules' queues within PutEvents, so once
	// the Stop Requested rule's queue is empty, the function has taken
	// every event that reached it: whatever it would stop, it has.
	testbed.Eventually(t, "the Stop Requested rule's deliveries to be done", func() bool { return e.messages(t, rules) == 0 })
	for what, arn := range map[string]string{"the default bus": viaDefault, "another account": fromElsewhere} {
		if got := e.status(t, arn); got != smtypes.PipelineExecutionStatusExecuting {
			t.Errorf("a Stop Requested event from %s left the execution %s, want Executing", what, got)
		}
		if n := e.calls.count("StopPipelineExecution", arn); n != 0 {
			t.Errorf("a Stop Requested event from %s made %d StopPipelineExecution calls", what, n)
		}
		v, err := e.ledger.ReadExecution(context.Background(), mustARN(t, arn))
		if err != nil || len(v.Stops) != 0 {
			t.Errorf("a Stop Requested event from %s recorded stops %+v (%v)", what, v.Stops, err)
		}
	}
	e.waitLog(t, "status-events", "from an account stopcoord does not serve", "999999999999")

	testbed.Eventually(t, "the requested execution to stop", func() bool {
		s := e.status(t, requested)
		return s == smtypes.PipelineExecutionStatusStopping || s == smtypes.PipelineExecutionStatusStopped
	})
	var stop pipeline.StopRequest
	testbed.Eventually(t, "the event's stop in the ledger", func() bool {
		v, err := e.ledger.ReadExecution(context.Background(), mustARN(t, requested))
		if err != nil || len(v.Stops) != 1 {
			return false
		}
		stop = v.Stops[0]
		return true
	})
	if !strings.Contains(stop.RequestedBy, "account "+account) || !strings.Contains(stop.RequestedBy, id) {
		t.Errorf("the stop was requested by %q, want the sending account and the event id %s", stop.RequestedBy, id)
	}
}

// Case 6: status events of every pipeline in the account were recorded,
// and the sweeper then swept pipelines it may not touch, denied on every
// pass. Now events outside the allow-list are ignored and counted, and
// no function asks SageMaker anything about such an execution.
func TestCase6StatusEventsOutsideTheAllowListAreIgnoredAndCounted(t *testing.T) {
	e := stackT(t)
	quick := `{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"img"}},"x-emulator":{"durationMs":300}}`
	foreign := e.start(t, e.pipeline(t, "other-etl", quick))
	own := e.start(t, e.pipeline(t, "sec-etl", quick))
	e.waitStatus(t, foreign, smtypes.PipelineExecutionStatusSucceeded)
	e.waitStatus(t, own, smtypes.PipelineExecutionStatusSucceeded)
	// The control: the allowed execution's events are recorded.
	testbed.Eventually(t, "the allowed execution Succeeded in the ledger", func() bool {
		v, err := e.ledger.ReadExecution(context.Background(), mustARN(t, own))
		return err == nil && v.Execution != nil && v.Execution.Status == pipeline.ExecutionSucceeded && len(v.Steps) == 1 && v.Steps[0].Status == pipeline.StepSucceeded
	})
	// Its execution's and its step's Succeeded events, at least, reached
	// the function and were ignored.
	var ignored []string
	testbed.Eventually(t, "the foreign execution's events ignored", func() bool {
		ignored = ignored[:0]
		for _, line := range e.logs.lines("status-events") {
			if strings.Contains(line, "outside the allow-list") && strings.Contains(line, foreign) {
				ignored = append(ignored, line)
			}
		}
		return len(ignored) >= 2
	})
	var last struct {
		IgnoredSoFar int `json:"ignoredSoFar"`
	}
	if err := json.Unmarshal([]byte(ignored[len(ignored)-1]), &last); err != nil || last.IgnoredSoFar < len(ignored) {
		t.Errorf("the last ignored event's line %s: want a count of at least %d ignored events (%v)", ignored[len(ignored)-1], len(ignored), err)
	}
	e.waitSweeps(t, 2)
	v, err := e.ledger.ReadExecution(context.Background(), mustARN(t, foreign))
	if err != nil || v.Execution != nil || len(v.Steps) != 0 {
		t.Errorf("the ledger recorded the foreign execution: %+v %+v (%v)", v.Execution, v.Steps, err)
	}
	if n := e.calls.count("", foreign); n != 0 {
		t.Errorf("functions made %d SageMaker calls about an execution outside the allow-list", n)
	}
}

// Case 7: tokens were returned in full to every reader of the view and
// written to logs. Now the view and a force stop's answer name each token
// by its reference, and no line any function wrote in this run
// (registrations, hand-offs, cleanups, answers, refusals, sweeps) holds a
// token of any execution the tests started. It runs last, so the logs of
// every case are scanned.
func TestCase7NoTokenInTheViewOrTheLogs(t *testing.T) {
	e := stackT(t)
	work := e.queue(t, "sec-work")
	run := e.stateMachineExecution(t, "sec-etl")
	arn := e.start(t, e.pipeline(t, "sec-tok",
		e.callbackStep("Work", map[string]any{callback.ArgWorkerQueue: work}),
		e.callbackStep("Clean", map[string]any{callback.ArgSFNExecutionARN: run, callback.ArgCleanupLambda: "sec-cleanup-ok"})))
	work1 := e.token(t, arn, "Work")
	clean := e.token(t, arn, "Clean")
	e.waitRecorded(t, arn, work1)
	e.waitRecorded(t, arn, clean)
	if status, body := e.register(t, worker, work1, arn, pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: e.stateMachineExecution(t, "sec-etl")}); status != http.StatusOK {
		t.Fatalf("register: %d %v", status, body)
	}
	_, _, view := e.api(t, "GET", executionPath(t, arn), mallory, nil)
	for _, tok := range []string{work1, clean} {
		if strings.Contains(view, tok) || !strings.Contains(view, pipeline.TokenRef(tok)) {
			t.Errorf("the view %s\nholds a token, or lacks its reference %s", view, pipeline.TokenRef(tok))
		}
	}
	e.stop(t, arn, "graceful")
	e.waitStatus(t, arn, smtypes.PipelineExecutionStatusStopped)

	// The forced step's messages go to a queue no function consumes, so the
	// force stop is what answers it (from SageMaker's listing). On the
	// stack's callback queue the callback function races the force stop to
	// the Stopping message and, when it wins, the answer lists no token.
	unwatched, err := e.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("sec-unwatched")})
	if err != nil {
		t.Fatal(err)
	}
	forced := e.start(t, e.pipeline(t, "sec-tok", callbackStepOn(aws.ToString(unwatched.QueueUrl), "Wait", nil)))
	forcedToken := e.token(t, forced, "Wait")
	status, _, answer := e.api(t, "POST", executionPath(t, forced)+"/stops", worker, map[string]string{"reason": "security e2e", "mode": "force"})
	if status != http.StatusAccepted {
		t.Fatalf("force stop: %d %s", status, answer)
	}
	e.waitStatus(t, forced, smtypes.PipelineExecutionStatusStopped)
	e.waitSweeps(t, 1)

	t.Run("logs", func(t *testing.T) {
		e.startedMu.Lock()
		started := append([]string(nil), e.started...)
		e.startedMu.Unlock()
		logs := e.logs.all()
		if !strings.Contains(logs, "[callback] ") || !strings.Contains(logs, "[stop-api] ") || !strings.Contains(logs, "[status-events] ") || !strings.Contains(logs, "[sweeper] ") {
			t.Fatal("a function wrote no log line: the scan would prove nothing")
		}
		tokens := 0
		for _, x := range started {
			for _, a := range e.st.Emulator.Answers(x) {
				tokens++
				if strings.Contains(logs, a.Token) {
					for _, line := range strings.Split(logs, "\n") {
						if strings.Contains(line, a.Token) {
							t.Errorf("a log line holds the token of %s (%s): %s", a.StepName, x, line)
							break
						}
					}
				}
			}
		}
		t.Logf("%d log lines of %d executions scanned for %d tokens", strings.Count(logs, "\n"), len(started), tokens)
	})
	t.Run("the force stop's answer", func(t *testing.T) {
		if strings.Contains(answer, forcedToken) || !strings.Contains(answer, pipeline.TokenRef(forcedToken)) {
			t.Errorf("the force stop's answer %s\nholds the token it answered, or lacks its reference %s", answer, pipeline.TokenRef(forcedToken))
		}
	})
}
