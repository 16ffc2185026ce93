package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// runCallback sends the start message to the step's queue and waits for
// Send*. A stop sends one more message with status Stopping (same token by
// default) and keeps waiting: the execution stays Stopping until the step
// is answered, which is the behaviour stopcoord exists to handle.
func (e *Emulator) runCallback(ctx context.Context, x *execution, s *stepRun) {
	e.mu.Lock()
	token := s.token // set when a retried attempt keeps its first token
	if token == "" {
		token = newCallbackToken()
	}
	s.token, s.queueURL = token, s.def.SqsQueueURL
	e.tokens[token] = &tokenRef{x: x, s: s}
	e.mu.Unlock()

	args, err := e.resolveArgs(x, s)
	if err != nil {
		e.transition(x, s, statusFailed, fmt.Sprintf("Callback step arguments could not be resolved: %v", err), nil)
		return
	}
	s.args = args // only this goroutine reads it
	if err := e.sendCallbackMessage(ctx, x, s, token, statusExecuting); err != nil {
		if ctx.Err() != nil {
			return
		}
		e.transition(x, s, statusFailed, truncate(fmt.Sprintf("Failed to send the callback message to %s: %v", s.queueURL, err), 1024), nil)
		return
	}
	e.transition(x, s, statusExecuting, "", nil)

	stopCh := x.stopCh
	for {
		select {
		case a := <-s.answer:
			e.transition(x, s, a.status, a.failureReason, func() {
				if a.status == statusSucceeded || a.status == statusStopped {
					s.outputs = a.outputs
					s.outputValues = typedOutputs(s.def, a.outputs)
				}
			})
			return
		case <-stopCh:
			stopCh = nil
			e.stopCallback(ctx, x, s, token)
		case <-ctx.Done():
			return
		}
	}
}

// stopCallback makes the step Stopping and sends the Stopping message,
// unless the step was answered just before the stop or the message is to be
// dropped (a lost message is a fault stopcoord must survive).
func (e *Emulator) stopCallback(ctx context.Context, x *execution, s *stepRun, token string) {
	e.mu.Lock()
	if s.answered {
		e.mu.Unlock()
		return
	}
	if e.opts.Switches.NewStoppingToken {
		token = newCallbackToken()
		e.tokens[token] = &tokenRef{x: x, s: s}
	}
	e.setStepStatus(x, s, statusStopping, "")
	drop := x.dropStopping
	e.mu.Unlock()
	if drop {
		e.log.Info("dropping the Stopping message", "executionArn", x.arn, "stepName", s.def.Name)
		return
	}
	if err := e.sendCallbackMessage(ctx, x, s, token, statusStopping); err != nil && ctx.Err() == nil {
		// The real service gives no signal either; the step just waits.
		e.log.Error("send the Stopping message", "executionArn", x.arn, "stepName", s.def.Name, "error", err)
	}
}

// sendCallbackMessage sends {token, pipelineExecutionArn, arguments, status}
// to the step's queue through the real SQS API.
func (e *Emulator) sendCallbackMessage(ctx context.Context, x *execution, s *stepRun, token, status string) error {
	body := map[string]any{
		"token":                token,
		"pipelineExecutionArn": x.arn,
		"arguments":            s.args,
	}
	if status != statusExecuting || !e.opts.Switches.OmitStartStatus {
		body[e.opts.Switches.StatusKey] = status
	}
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode the message: %w", err)
	}
	in := &sqs.SendMessageInput{QueueUrl: aws.String(s.queueURL), MessageBody: aws.String(string(b))}
	if strings.HasSuffix(s.queueURL, ".fifo") {
		in.MessageGroupId = aws.String(x.id)
		in.MessageDeduplicationId = aws.String(token + "-" + status)
	}
	endpoint := e.opts.SQSEndpoint
	if endpoint == "" {
		u, err := url.Parse(s.queueURL)
		if err != nil || u.Host == "" {
			return fmt.Errorf("SqsQueueUrl %q is not a URL", s.queueURL)
		}
		endpoint = u.Scheme + "://" + u.Host
	}
	_, err = e.sqs.SendMessage(ctx, in, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if err != nil {
		return err
	}
	e.log.Info("callback message sent", "executionArn", x.arn, "stepName", s.def.Name, "status", status, "queueUrl", s.queueURL)
	return nil
}
