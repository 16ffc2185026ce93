package coordinator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// executing handles a start message: record the token with its step,
// arguments and cleanup plan, then hand the work to the step's worker, or,
// when a stop is already under way, answer with a failure at once instead
// of starting work that would only have to be cleaned up.
//
// A redelivered start message registers nothing new and hands the work over
// again: the first hand-off may be what failed, so workers receive the
// callback context at least once and must be idempotent (as every Lambda
// async invocation and SQS consumer must be anyway).
func (c *Callbacks) executing(ctx context.Context, d Delivery, m callback.Message) (CallbackResult, error) {
	res := CallbackResult{Token: m.Token, ExecutionARN: m.ExecutionARN.String()}
	if rec, err := c.ledger.GetToken(ctx, m.ExecutionARN, m.Token); err == nil && rec.State == pipeline.TokenAnswered {
		res.Action, res.StepName = ActionDuplicate, rec.StepName
		return res, nil
	} else if err != nil && !errors.Is(err, pipeline.ErrNotFound) {
		return res, err
	}
	steps, err := c.callbackSteps(ctx, m.ExecutionARN)
	if err != nil {
		return res, err
	}
	step, _ := stepOf(steps, m.Token) // not listed yet: register without a name rather than wait
	res.StepName = step.name

	plan, planErr := callback.PlanFromArguments(m.Arguments)
	if _, _, err := c.ledger.CompleteToken(ctx, pipeline.TokenRegistration{ARN: m.ExecutionARN, Token: m.Token, StepName: step.name,
		Arguments: m.Arguments, CleanupPlan: plan.Resources}); err != nil {
		return res, err
	}
	if planErr != nil {
		// The author's arguments are wrong: fail the step now with why,
		// rather than start work stopcoord could not clean up.
		return c.answerNow(ctx, d, m, res, "stopcoord cannot run this step: "+pipeline.Message(planErr))
	}

	view, err := c.ledger.ReadExecution(ctx, m.ExecutionARN)
	if err != nil {
		return res, err
	}
	if step.status == pipeline.StepStopping || stopUnderWay(view) {
		return c.answerNow(ctx, d, m, res, stopReason(view)+" (the stop began before the work started)")
	}
	cc := callback.Context{Token: m.Token, ExecutionARN: m.ExecutionARN.String(), StepName: step.name, Arguments: m.Arguments, Status: callback.StatusExecuting}
	if err := c.handOff(ctx, plan.Worker, cc); err != nil {
		return res, err
	}
	if plan.Worker.None() {
		c.logger(m, d).WarnContext(ctx, "callback step names no worker; it waits for whoever answers it", "stepName", step.name)
	}
	res.Action = ActionRegistered
	return res, nil
}

// answerNow claims and fails a token without cleaning up: no work started.
func (c *Callbacks) answerNow(ctx context.Context, d Delivery, m callback.Message, res CallbackResult, reason string) (CallbackResult, error) {
	if _, err := c.claim(ctx, m.ExecutionARN, m.Token, d.MessageID); err != nil {
		return c.claimOutcome(res, err)
	}
	if err := c.answer(ctx, m.ExecutionARN, m.Token, m.Token, d.MessageID, answerPlan{reason: reason}); err != nil {
		return res, err
	}
	res.Action, res.Outcome = ActionAnswered, pipeline.OutcomeFailure
	return res, nil
}

// stopUnderWay reports whether the ledger knows of a stop of the execution.
func stopUnderWay(v pipeline.View) bool {
	if v.Execution != nil && v.Execution.Status == pipeline.ExecutionStopping {
		return true
	}
	for _, s := range v.Stops {
		if s.Phase != pipeline.StopClosed {
			return true
		}
	}
	return false
}

// handOff gives the callback context to the worker the arguments name: an
// asynchronous Lambda invocation and/or a message on a work queue.
func (c *Callbacks) handOff(ctx context.Context, w callback.Worker, cc callback.Context) error {
	if w.None() {
		return nil
	}
	payload, err := json.Marshal(cc)
	if err != nil {
		return fmt.Errorf("encode callback context of %s: %w", cc.Token, err)
	}
	if w.LambdaFunction != "" {
		if c.lambda == nil {
			return pipeline.Errorf(pipeline.EInternal, "no Lambda client to invoke worker %s", w.LambdaFunction)
		}
		_, err := c.lambda.Invoke(ctx, &lambda.InvokeInput{
			FunctionName:   aws.String(w.LambdaFunction),
			InvocationType: lambdatypes.InvocationTypeEvent,
			Payload:        payload,
		})
		if err != nil {
			return fmt.Errorf("invoke worker %s for %s: %w", w.LambdaFunction, cc.Token, err)
		}
	}
	if w.QueueURL != "" {
		if c.queue == nil {
			return pipeline.Errorf(pipeline.EInternal, "no SQS client to send to worker queue %s", w.QueueURL)
		}
		in := &sqs.SendMessageInput{QueueUrl: aws.String(w.QueueURL), MessageBody: aws.String(string(payload))}
		if strings.HasSuffix(w.QueueURL, ".fifo") {
			// One group per execution, and a redelivered start message is
			// deduplicated by its token.
			in.MessageGroupId = aws.String(pipeline.RequestToken("work-group", cc.ExecutionARN))
			in.MessageDeduplicationId = aws.String(cc.Token)
		}
		if _, err := c.queue.SendMessage(ctx, in); err != nil {
			return fmt.Errorf("send %s to worker queue %s: %w", cc.Token, w.QueueURL, err)
		}
	}
	return nil
}
