package doctor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

// Step names of the throwaway pipelines.
const (
	callbackStep = "DoctorCallback"
	lambdaStep   = "DoctorLambda"
	timeoutStep  = "DoctorLambdaTimeout"
)

// probe runs both throwaway pipelines and records what it sees. The
// timeout probe runs on its own while the stop probe is carried out.
func (r *run) probe(ctx context.Context) error {
	queue, err := r.createQueue(ctx)
	if err != nil {
		return err
	}
	fn, err := r.createFunction(ctx)
	if err != nil {
		return err
	}
	timeoutPipeline, stopPipeline := r.name+"-timeout", r.name+"-stop"
	timeoutProbe := true
	if err := r.createPipeline(ctx, timeoutPipeline, definition(
		lambdaStepJSON(timeoutStep, fn, int(r.cfg.LambdaTimeout/time.Second), 2*r.cfg.LambdaTimeout),
	)); err != nil {
		// A service that does not take a Timeout in the definition is an
		// answer too, not a reason to stop the other probes.
		code := errorCode(err)
		if code == "" {
			return err
		}
		r.findFixed(behLambdaTimeout, "the definition is refused: "+code+": "+truncate(errorMessage(err), 120), false, "an accepted definition and a honoured Timeout")
		timeoutProbe = false
	}
	if err := r.createPipeline(ctx, stopPipeline, definition(
		fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":{"probe":"stopcoord-doctor"},"OutputParameters":[]}`, callbackStep, queue),
		lambdaStepJSON(lambdaStep, fn, 0, r.cfg.LambdaSleep),
	)); err != nil {
		return err
	}
	var timeoutExec string
	if timeoutProbe {
		if timeoutExec, err = r.start(ctx, timeoutPipeline); err != nil {
			return err
		}
	}
	stopExec, err := r.start(ctx, stopPipeline)
	if err != nil {
		return err
	}
	startToken, err := r.probeStop(ctx, queue, stopExec)
	if err != nil {
		return err
	}
	if err := r.probeRetry(ctx, queue, stopPipeline, stopExec, startToken); err != nil {
		return err
	}
	if !timeoutProbe {
		return nil
	}
	return r.probeTimeout(ctx, timeoutExec)
}

func definition(steps ...string) string {
	return `{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.Join(steps, ",") + `]}`
}

// lambdaStepJSON is a Lambda step running the temporary function for
// sleep; timeoutSeconds 0 leaves the step's Timeout at its default.
func lambdaStepJSON(name, fn string, timeoutSeconds int, sleep time.Duration) string {
	timeout := ""
	if timeoutSeconds > 0 {
		timeout = fmt.Sprintf(`"Timeout":%d,`, timeoutSeconds)
	}
	return fmt.Sprintf(`{"Name":%q,"Type":"Lambda","FunctionArn":%q,%s"Arguments":{"sleepSeconds":"%g"},"OutputParameters":[]}`,
		name, fn, timeout, sleep.Seconds())
}

// message is a callback message as the doctor reads it: every member, so
// the key's spelling is observed, not assumed.
type message struct {
	raw    map[string]any
	token  string
	status string
	key    string // the member holding the status: "status", "Status", or "" when absent
}

func parseMessage(body string) (message, error) {
	var m message
	if err := json.Unmarshal([]byte(body), &m.raw); err != nil {
		return m, fmt.Errorf("callback message is not a JSON object: %.200s", body)
	}
	m.token, _ = m.raw["token"].(string)
	for k, v := range m.raw {
		if strings.EqualFold(k, "status") {
			m.key, _ = k, v
			m.status, _ = v.(string)
		}
	}
	return m, nil
}

// receive waits up to MessageWait for a message of the execution whose
// status is accept (any status when accept is nil); nil when none came.
func (r *run) receive(ctx context.Context, queue, execution string, accept func(message) bool) (*message, error) {
	deadline := time.Now().Add(r.cfg.MessageWait)
	for time.Now().Before(deadline) {
		wait := min(20*time.Second, time.Until(deadline)).Round(time.Second)
		out, err := r.deps.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10,
			WaitTimeSeconds: int32(max(wait/time.Second, 1))})
		if err != nil {
			return nil, fmt.Errorf("receive from %s: %w", queue, err)
		}
		for _, sm := range out.Messages {
			r.deps.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: sm.ReceiptHandle})
			m, err := parseMessage(aws.ToString(sm.Body))
			if err != nil {
				r.logf("ignored a message: %v", err)
				continue
			}
			if arn, _ := m.raw["pipelineExecutionArn"].(string); arn != execution {
				continue
			}
			if accept == nil || accept(m) {
				return &m, nil
			}
		}
	}
	return nil, ctx.Err()
}

// probeStop starts, stops and answers the stop probe's execution.
func (r *run) probeStop(ctx context.Context, queue, exec string) (string, error) {
	start, err := r.receive(ctx, queue, exec, nil)
	if err != nil {
		return "", err
	}
	if start == nil {
		return "", fmt.Errorf("no callback message within %s: does the pipeline role have sqs:SendMessage on %s?", r.cfg.MessageWait, queue)
	}
	r.logf("received the start message")
	r.find(behStartStatus, yesNo(start.key != ""), switchOmitStartStatus(start.key != ""))

	// Stop while both steps run, so the stop finds a callback to answer and
	// a Lambda step to wait for.
	lambdaRunning, err := r.waitSteps(ctx, exec)
	if err != nil {
		return "", err
	}
	if _, err := r.deps.SageMaker.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(exec), ClientRequestToken: aws.String(token(exec, "stop"))}); err != nil {
		return "", fmt.Errorf("stop %s: %w", exec, err)
	}
	r.logf("stopped %s", exec)
	// The Lambda step during the stop, read at once: waiting for a
	// Stopping message that may never come could outlast it.
	steps, err := r.steps(ctx, exec)
	if err != nil {
		return "", err
	}
	switch {
	case !lambdaRunning || stepTerminal(steps[lambdaStep].StepStatus):
		r.find(behLambdaDuringStop, "not observed: the Lambda step ended before the stop (raise --lambda-sleep)", "")
	default:
		r.fixed(behLambdaDuringStop, string(steps[lambdaStep].StepStatus), "Executing")
	}
	stopping, err := r.receive(ctx, queue, exec, func(m message) bool { return m.status != "" && !strings.EqualFold(m.status, "Executing") })
	if err != nil {
		return "", err
	}

	// What the messages carried.
	keys := start.key
	if stopping != nil {
		keys = stopping.key
		r.find(behStoppingSent, "yes", "-drop-stopping-message=0 (default)")
		if stopping.token == start.token {
			r.find(behStoppingToken, "the start message's token", "-new-stopping-token=false (default)")
		} else {
			r.find(behStoppingToken, "a new token", "-new-stopping-token=true")
		}
	} else {
		r.find(behStoppingSent, fmt.Sprintf("no, none within %s", r.cfg.MessageWait), "-drop-stopping-message=1")
		r.find(behStoppingToken, "not observed (no Stopping message)", "")
	}
	switch keys {
	case "":
		r.find(behStatusKey, "no status member", "none matches: the emulator always sends one")
	case "status":
		r.find(behStatusKey, `"status"`, "-status-key=status (default)")
	default:
		r.find(behStatusKey, fmt.Sprintf("%q", keys), "-status-key="+keys)
	}

	// Stop again while Stopping.
	_, err = r.deps.SageMaker.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(exec), ClientRequestToken: aws.String(token(exec, "stop-again"))})
	r.fixed(behStopStopping, outcome(err), "success")

	// Answer the Stopping callback, then again: same request, then a new one.
	answerToken := start.token
	if stopping != nil {
		answerToken = stopping.token
	}
	if err := r.fail(ctx, answerToken, "first"); err != nil {
		return "", fmt.Errorf("answer the callback of %s: %w", exec, err)
	}
	r.logf("answered the callback")
	r.fixed(behAnswerReplay, outcome(r.fail(ctx, answerToken, "first")), "success")
	r.fixed(behAnswerAgain, outcome(r.fail(ctx, answerToken, "second")), "ConflictException")
	if stopping != nil && stopping.token != start.token {
		r.fixed(behAnswerStartToken, outcome(r.fail(ctx, start.token, "start-token")), "ConflictException")
	}
	r.fixed(behUnknownToken, outcome(r.fail(ctx, "Zz9doctor0", "unknown")), "ResourceNotFound")

	// How it ends.
	final, err := r.waitTerminal(ctx, exec)
	if err != nil {
		return "", err
	}
	if steps, err = r.steps(ctx, exec); err != nil {
		return "", err
	}
	r.fixed(behFinalStatus, fmt.Sprintf("execution %s, callback step %s, Lambda step %s", final, steps[callbackStep].StepStatus, steps[lambdaStep].StepStatus),
		"execution Stopped, callback step Stopped, Lambda step Succeeded")
	_, err = r.deps.SageMaker.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(exec), ClientRequestToken: aws.String(token(exec, "stop-ended"))})
	r.fixed(behStopTerminal, outcome(err), "ConflictException")
	return start.token, nil
}

// probeTimeout sees whether a definition-level Lambda Timeout ends the
// step: its function runs twice as long as the Timeout, and well under
// the 120 s default.
func (r *run) probeTimeout(ctx context.Context, exec string) error {
	final, err := r.waitTerminal(ctx, exec)
	if err != nil {
		return err
	}
	steps, err := r.steps(ctx, exec)
	if err != nil {
		return err
	}
	step := steps[timeoutStep]
	observed := fmt.Sprintf("step %s, execution %s", step.StepStatus, final)
	if step.FailureReason != nil {
		observed += ": " + truncate(aws.ToString(step.FailureReason), 80)
	}
	if step.StartTime != nil && step.EndTime != nil {
		observed += fmt.Sprintf(" (after %s)", step.EndTime.Sub(*step.StartTime).Round(time.Second))
	}
	want := "step Failed"
	got := "step " + string(step.StepStatus)
	r.findFixed(behLambdaTimeout, observed, got == want, "honoured: "+want)
	return nil
}

// waitSteps waits until both steps of the stop probe are listed; it
// reports whether the Lambda step is still running.
func (r *run) waitSteps(ctx context.Context, exec string) (bool, error) {
	for {
		steps, err := r.steps(ctx, exec)
		if err != nil {
			return false, err
		}
		cb, okCB := steps[callbackStep]
		fn, okFn := steps[lambdaStep]
		if okCB && okFn && cb.StepStatus == smtypes.StepStatusExecuting {
			return !stepTerminal(fn.StepStatus), nil
		}
		if err := sleep(ctx, r.cfg.Poll/4); err != nil {
			return false, err
		}
	}
}

func (r *run) steps(ctx context.Context, exec string) (map[string]smtypes.PipelineExecutionStep, error) {
	out, err := r.deps.SageMaker.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(exec)})
	if err != nil {
		return nil, fmt.Errorf("list the steps of %s: %w", exec, err)
	}
	m := map[string]smtypes.PipelineExecutionStep{}
	for _, s := range out.PipelineExecutionSteps {
		m[aws.ToString(s.StepName)] = s
	}
	return m, nil
}

// fail answers a callback token with a failure; attempt names the
// ClientRequestToken, so the same attempt is the same request.
func (r *run) fail(ctx context.Context, tok, attempt string) error {
	_, err := r.deps.SageMaker.SendPipelineExecutionStepFailure(ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
		CallbackToken: aws.String(tok), FailureReason: aws.String("stopcoord doctor"), ClientRequestToken: aws.String(token(tok+r.name, attempt)),
	})
	return err
}

// token is a deterministic ClientRequestToken (64 hex characters).
func token(subject, action string) string {
	sum := sha256.Sum256([]byte(subject + "\x00" + action))
	return hex.EncodeToString(sum[:])
}

// outcome is "success" or the error's code.
func outcome(err error) string {
	if err == nil {
		return "success"
	}
	if code := errorCode(err); code != "" {
		return code
	}
	return "error: " + truncate(err.Error(), 80)
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func errorMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return err.Error()
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func switchOmitStartStatus(carries bool) string {
	if carries {
		return "-omit-start-status=false (default)"
	}
	return "-omit-start-status=true"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
