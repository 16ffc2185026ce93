package coordinator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// executing handles a start message: record the token with its step,
// arguments and cleanup plan, then hand the work to the step's worker, or,
// when a stop SageMaker accepted is under way, answer with a failure at
// once instead of starting work that would only have to be cleaned up.
//
// A redelivered start message registers nothing new and hands the work over
// again while the step still waits: the first hand-off may be what failed,
// so workers receive the callback context at least once and must be
// idempotent (as every Lambda async invocation and SQS consumer must be
// anyway). Once the step has ended, or its token is answered, a
// redelivery starts nothing; during a stop, it cleans up and answers.
func (s *Service) executing(ctx context.Context, d Delivery, m callback.Message) (CallbackResult, error) {
	res := CallbackResult{Token: m.Token, ExecutionARN: m.ExecutionARN.String()}
	view, err := s.ledger.ReadExecution(ctx, m.ExecutionARN)
	if err != nil {
		return res, err
	}
	known := tokenIn(view.Tokens, m.Token)
	if known != nil && known.State == pipeline.TokenAnswered {
		res.Action, res.StepName = ActionDuplicate, known.StepName
		return res, nil
	}
	listed, err := listSteps(ctx, s.sm, m.ExecutionARN)
	if err != nil {
		return res, err
	}
	step, isListed := stepOf(callbackSteps(listed), m.Token)
	switch {
	case !isListed && known == nil && d.ReceiveCount < s.maxAttempts:
		// Only a token SageMaker lists for the execution is recorded (a
		// message on the queue may come from anyone who can send to it);
		// the listing may lag the message a moment.
		return res, &RetryError{After: s.backoff(d.ReceiveCount), Err: pipeline.Errorf(pipeline.ENotFound, "callback token %s is not listed for the execution yet", pipeline.TokenRef(m.Token))}
	case !isListed && known == nil:
		return res, s.reject(ctx, d, "no callback step of the execution holds the token")
	case step.status.Terminal():
		res.StepName, res.Action = step.name, ActionDuplicate
		return res, nil
	}
	if step.name == "" && known != nil {
		step.name = known.StepName
	}
	res.StepName = step.name
	if known != nil && (step.status == pipeline.StepStopping || stopUnderWay(view)) {
		// A redelivery during a stop: an earlier delivery registered the
		// step and handed its work over, so the worker may have started
		// what must now be cleaned up. Clean up and answer as the Stopping
		// message would, through the same path.
		return s.stopping(ctx, d, m)
	}

	plan, planErr := callback.PlanFromArguments(m.Arguments)
	rec, _, err := s.ledger.CompleteToken(ctx, pipeline.TokenRegistration{ARN: m.ExecutionARN, Token: m.Token, StepName: step.name,
		Arguments: m.Arguments, CleanupPlan: plan.Resources})
	if err != nil {
		return res, err
	}
	if planErr != nil {
		// The author's arguments are wrong: fail the step now with why,
		// rather than start work stopcoord could not clean up.
		return s.answerNow(ctx, d, m, res, &rec, "stopcoord cannot run this step: "+pipeline.Message(planErr))
	}
	if step.status == pipeline.StepStopping || stopUnderWay(view) {
		return s.answerNow(ctx, d, m, res, &rec, stopReason(view)+" (the stop began before the work started)")
	}
	if err := s.workerInScope(plan.Worker); err != nil {
		// Anyone who can send to the callback queue writes these arguments:
		// stopcoord invokes and sends only inside its scope.
		return s.answerNow(ctx, d, m, res, &rec, "stopcoord may not hand this step's work over: "+pipeline.Message(err))
	}
	cc := callback.Context{Token: m.Token, ExecutionARN: m.ExecutionARN.String(), StepName: step.name, Arguments: m.Arguments, Status: callback.StatusExecuting}
	if err := s.handOff(ctx, plan.Worker, cc); err != nil {
		if d.ReceiveCount >= s.maxAttempts {
			// The last tries failed too: fail the step with why, rather
			// than leave it Executing with no worker until its queue's DLQ.
			return s.answerNow(ctx, d, m, res, &rec, "stopcoord could not hand the step to its worker: "+err.Error())
		}
		return res, err
	}
	if plan.Worker.None() {
		s.logger(m, d).WarnContext(ctx, "callback step names no worker; it waits for whoever answers it", "stepName", step.name)
	}
	res.Action = ActionRegistered
	return res, nil
}

// answerNow fails a token through the token path without cleaning up: no
// work started.
func (s *Service) answerNow(ctx context.Context, d Delivery, m callback.Message, res CallbackResult, known *pipeline.Token, reason string) (CallbackResult, error) {
	out, err := s.tokens.answer(ctx, tokenJob{arn: m.ExecutionARN, record: m.Token, known: known, step: res.StepName, by: "callback " + d.MessageID,
		decide: func(pipeline.Token, *cleanupFailure) (answerPlan, error) { return answerPlan{reason: reason}, nil }})
	if err != nil {
		return res, err
	}
	res.Action, res.Outcome = ActionAnswered, out.outcome
	if out.duplicate {
		res.Action = ActionDuplicate
	}
	return res, nil
}

// stopUnderWay reports whether the ledger knows of a stop SageMaker has
// accepted: the execution is Stopping, or a stop request was issued. A
// request SageMaker refused (throttled, say) stays "requested" and stops
// nothing, so it does not count.
func stopUnderWay(v pipeline.View) bool {
	if v.Execution != nil && v.Execution.Status == pipeline.ExecutionStopping {
		return true
	}
	for _, s := range v.Stops {
		if s.Phase == pipeline.StopIssued {
			return true
		}
	}
	return false
}

// workerInScope holds the worker a step's arguments name to the scope.
func (s *Service) workerInScope(w callback.Worker) error {
	if w.LambdaFunction != "" {
		if err := s.scope.Allows(pipeline.ScopeWorkerLambda, w.LambdaFunction); err != nil {
			return err
		}
	}
	if w.QueueURL != "" {
		return s.scope.Allows(pipeline.ScopeWorkerQueue, w.QueueURL)
	}
	return nil
}

// handOff gives the callback context to the worker the arguments name: an
// asynchronous Lambda invocation and/or a message on a work queue.
func (s *Service) handOff(ctx context.Context, w callback.Worker, cc callback.Context) error {
	if w.None() {
		return nil
	}
	payload, err := json.Marshal(cc)
	if err != nil {
		return fmt.Errorf("encode callback context of %s: %w", cc.Token, err)
	}
	if w.LambdaFunction != "" {
		if s.workers == nil {
			return pipeline.Errorf(pipeline.EInternal, "no Lambda client to invoke worker %s", w.LambdaFunction)
		}
		if err := s.workers.StartWorker(ctx, w.LambdaFunction, payload); err != nil {
			return fmt.Errorf("invoke worker %s for %s: %w", w.LambdaFunction, cc.Token, err)
		}
	}
	if w.QueueURL != "" {
		if s.sqs == nil {
			return pipeline.Errorf(pipeline.EInternal, "no SQS client to send to worker queue %s", w.QueueURL)
		}
		in := &sqs.SendMessageInput{QueueUrl: aws.String(w.QueueURL), MessageBody: aws.String(string(payload))}
		if strings.HasSuffix(w.QueueURL, ".fifo") {
			// One group per execution, and a redelivered start message is
			// deduplicated by its token.
			in.MessageGroupId = aws.String(pipeline.RequestToken("work-group", cc.ExecutionARN))
			in.MessageDeduplicationId = aws.String(cc.Token)
		}
		if _, err := s.sqs.SendMessage(ctx, in); err != nil {
			return fmt.Errorf("send %s to worker queue %s: %w", cc.Token, w.QueueURL, err)
		}
	}
	return nil
}
