package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Claims and their retries.
const (
	// claimMargin is added to the cleaner timeout for the claim's lease:
	// the claimant cleans, then answers, within it.
	claimMargin = 30 * time.Second
	// maxClaimWait caps how long a delivery that found the token claimed
	// waits before it comes back to see whether the claimant answered.
	maxClaimWait = 10 * time.Second
)

// claim takes the right to answer the token. The claimant is the message
// id, so a redelivery of the same message (after a failed cleanup) takes
// its own claim again at once, while a duplicate message waits.
func (c *Callbacks) claim(ctx context.Context, arn pipeline.ExecutionARN, token, claimant string) (pipeline.Token, error) {
	return c.ledger.ClaimToken(ctx, arn, token, claimant, 2*c.cleanerTimeout+claimMargin)
}

// claimOutcome turns a failed claim into the delivery's outcome: answered
// before is done; claimed by another delivery comes back later, when that
// one has answered and this one is a no-op.
func (c *Callbacks) claimOutcome(res CallbackResult, err error) (CallbackResult, error) {
	var answered *pipeline.AlreadyAnsweredError
	var claimed *pipeline.ClaimedError
	switch {
	case errors.As(err, &answered):
		res.Action = ActionDuplicate
		return res, nil
	case errors.As(err, &claimed):
		wait := min(max(claimed.ClaimUntil.Sub(c.now()), time.Second), maxClaimWait)
		return res, &RetryError{After: wait, Err: err}
	}
	return res, err
}

// answerPlan is how a token is to be answered.
type answerPlan struct {
	succeed bool
	outputs map[string]string
	reason  string // of a failure
}

func (a answerPlan) outcome() pipeline.Outcome {
	if a.succeed {
		return pipeline.OutcomeSuccess
	}
	return pipeline.OutcomeFailure
}

// answer sends the outcome for sendToken with a ClientRequestToken derived
// from it, so a retry is the call SageMaker already accepted, then marks
// the step's record answered. SageMaker saying the token needs no answer
// (answered already, step gone) counts as answered: retrying could never
// succeed.
func (c *Callbacks) answer(ctx context.Context, arn pipeline.ExecutionARN, sendToken, recordToken, by string, a answerPlan) error {
	var err error
	if a.succeed {
		_, err = c.sm.SendPipelineExecutionStepSuccess(ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
			CallbackToken:      aws.String(sendToken),
			OutputParameters:   outputParameters(a.outputs),
			ClientRequestToken: aws.String(pipeline.RequestToken("step-success", sendToken)),
		})
	} else {
		_, err = c.sm.SendPipelineExecutionStepFailure(ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
			CallbackToken:      aws.String(sendToken),
			FailureReason:      aws.String(truncate(a.reason, pipeline.MaxReasonLength)),
			ClientRequestToken: aws.String(pipeline.RequestToken("step-failure", sendToken)),
		})
	}
	answer := pipeline.Answer{By: by, Outcome: a.outcome(), Reason: a.reason}
	if err != nil {
		if !alreadyAnswered(err) {
			return fromSageMaker("answer callback token", sendToken, err)
		}
		answer.Reason = truncate("SageMaker said the token needs no answer ("+err.Error()+"); "+a.reason, 1024)
	}
	if sendToken != recordToken {
		// A Stopping message with a token of its own: keep that token as an
		// answered alias, without a step name (the step's record is
		// recordToken), so a duplicate of the message finds it by token.
		if _, _, err := c.ledger.CompleteToken(ctx, pipeline.TokenRegistration{ARN: arn, Token: sendToken}); err != nil {
			return fmt.Errorf("record Stopping token %s of %s: %w", sendToken, recordToken, err)
		}
		alias := answer
		alias.By = by + " (Stopping token of " + recordToken + ")"
		if err := markAnswered(ctx, c.ledger, arn, sendToken, alias); err != nil {
			return err
		}
	}
	return markAnswered(ctx, c.ledger, arn, recordToken, answer)
}

// markAnswered marks a token answered; answered before is as good.
func markAnswered(ctx context.Context, l CallbackTokens, arn pipeline.ExecutionARN, token string, a pipeline.Answer) error {
	_, err := l.MarkAnswered(ctx, arn, token, a)
	var already *pipeline.AlreadyAnsweredError
	if err != nil && !errors.As(err, &already) {
		return fmt.Errorf("mark callback token %s answered: %w", token, err)
	}
	return nil
}

// outputParameters orders the outputs by name (a stable request, so the
// idempotent retry matches) and keeps at most the API's 50.
func outputParameters(outputs map[string]string) []smtypes.OutputParameter {
	names := make([]string, 0, len(outputs))
	for n := range outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 50 {
		names = names[:50]
	}
	params := make([]smtypes.OutputParameter, 0, len(names))
	for _, n := range names {
		params = append(params, smtypes.OutputParameter{Name: aws.String(n), Value: aws.String(outputs[n])})
	}
	return params
}

// stopReason is the reason of the stop under way (the earliest open stop
// request), or the default.
func stopReason(v pipeline.View) string {
	var first *pipeline.StopRequest
	for i, s := range v.Stops {
		if s.Phase != pipeline.StopClosed && (first == nil || s.CreatedAt.Before(first.CreatedAt)) {
			first = &v.Stops[i]
		}
	}
	if first == nil || first.Reason == "" {
		return DefaultReason
	}
	return truncate(first.Reason, pipeline.MaxReasonLength)
}

// withCleanupFailure adds the cleanup failure to a reason within the
// 256 characters FailureReason allows, shortening the stop reason first so
// that the failure stays visible.
func withCleanupFailure(reason string, f *cleanupFailure) string {
	suffix := truncate("; cleanup failed: "+f.Error(), pipeline.MaxReasonLength*3/4)
	room := pipeline.MaxReasonLength - len([]rune(suffix))
	return truncate(reason, room) + suffix
}
