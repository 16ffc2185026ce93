package coordinator

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// DefaultReason is the stop reason when the caller gives none.
const DefaultReason = "Stopped by stopcoord"

// MaxKeyLength bounds an idempotency key.
const MaxKeyLength = 255

// StopInput is a request to stop one execution, from the HTTP API, an
// EventBridge rule, the stop queue or the sweeper.
type StopInput struct {
	ExecutionARN string
	Reason       string
	Mode         string // graceful (default) or force
	// Key makes the request idempotent; requests without one share the key
	// of their mode, so repeating a stop never stops twice.
	Key         string
	RequestedBy string
}

// StopResult is what a stop request came to.
type StopResult struct {
	Stop pipeline.StopRequest
	// Created is false when the request repeats one already made.
	Created bool
	// AlreadyStopping is true when the execution was Stopping before this
	// request: nothing new was asked of SageMaker.
	AlreadyStopping bool
	// Status is the execution's status as SageMaker reported it before the stop.
	Status pipeline.ExecutionStatus
	// Answered lists the callback tokens a force stop answered.
	Answered []string
}

// Stop stops an execution: it records the request, asks SageMaker to stop
// with a ClientRequestToken derived from the execution, and, in force mode,
// answers every open callback token with a failure at once. It is safe to
// repeat: a request with the same key returns the first one without
// calling SageMaker again.
func (c *Coordinator) Stop(ctx context.Context, in StopInput) (StopResult, error) {
	arn, req, err := c.validate(in)
	if err != nil {
		return StopResult{}, err
	}
	desc, err := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
	if err != nil {
		return StopResult{}, fromSageMaker("describe execution", arn.String(), err)
	}
	status := pipeline.ExecutionStatus(desc.PipelineExecutionStatus)
	if status.Terminal() {
		return StopResult{Status: status}, pipeline.Errorf(pipeline.EConflict, "execution %s has already ended: %s", arn.ExecutionID, status)
	}
	if status == pipeline.ExecutionStopping {
		return c.joinStopping(ctx, arn, req)
	}

	stop, created, err := c.ledger.CreateStop(ctx, req)
	if err != nil {
		return StopResult{}, err
	}
	res := StopResult{Stop: stop, Created: created, Status: status}
	if !created && stop.Phase.Rank() >= pipeline.StopIssued.Rank() {
		return res, nil // a repeat of a request SageMaker already accepted
	}
	_, err = c.sm.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{
		PipelineExecutionArn: aws.String(arn.String()),
		ClientRequestToken:   aws.String(pipeline.RequestToken("stop", arn.String())),
	})
	if err != nil {
		return res, c.stopFailed(ctx, arn, err)
	}
	now := c.now()
	if res.Stop, err = c.ledger.AdvanceStop(ctx, arn, stop.ID, pipeline.StopIssued, now, "StopPipelineExecution accepted"); err != nil && !errors.Is(err, pipeline.ErrStale) {
		return res, err
	}
	// The Stopping event will say the same; recording it now lets the status
	// view and the sweeper see the stop at once. Order-safe, so harmless.
	if _, err := c.ledger.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: now}); err != nil && pipeline.Code(err) != pipeline.EConflict {
		return res, err
	}
	if stop.Mode == pipeline.StopForce {
		res.Answered, err = c.forceAnswer(ctx, arn, res.Stop)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// validate checks the request and turns it into the ledger's NewStop.
func (c *Coordinator) validate(in StopInput) (pipeline.ExecutionARN, pipeline.NewStop, error) {
	arn, err := pipeline.ParseExecutionARN(strings.TrimSpace(in.ExecutionARN))
	if err != nil {
		return arn, pipeline.NewStop{}, err
	}
	mode, reason, key, err := stopFields(in.Reason, in.Mode, in.Key)
	if err != nil {
		return arn, pipeline.NewStop{}, err
	}
	if err := c.access.Check(arn); err != nil {
		return arn, pipeline.NewStop{}, err
	}
	return arn, pipeline.NewStop{ARN: arn, Key: key, Mode: mode, Reason: reason, RequestedBy: in.RequestedBy, At: c.now()}, nil
}

// joinStopping answers a stop of an execution that is already Stopping: a
// repeat of this request returns it as it stands; another request gets the
// stop under way, or a new record if the stop came from elsewhere (the
// console, another tool). SageMaker is not asked again.
func (c *Coordinator) joinStopping(ctx context.Context, arn pipeline.ExecutionARN, req pipeline.NewStop) (StopResult, error) {
	view, err := c.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return StopResult{}, err
	}
	// A repeat of our own request (same key) answers as the first did.
	mine := pipeline.StopID(arn, req.Key)
	for _, s := range view.Stops {
		if s.ID == mine {
			return StopResult{Stop: s, Status: pipeline.ExecutionStopping}, nil
		}
	}
	res := StopResult{AlreadyStopping: true, Status: pipeline.ExecutionStopping}
	for _, s := range view.Stops {
		if s.Phase != pipeline.StopClosed && (res.Stop.ID == "" || s.CreatedAt.Before(res.Stop.CreatedAt)) {
			res.Stop = s
		}
	}
	if res.Stop.ID != "" {
		return res, nil
	}
	stop, created, err := c.ledger.CreateStop(ctx, req)
	if err != nil {
		return res, err
	}
	res.Stop, res.Created = stop, created
	if stop.Phase == pipeline.StopRequested {
		if res.Stop, err = c.ledger.AdvanceStop(ctx, arn, stop.ID, pipeline.StopIssued, c.now(), "execution was already Stopping"); err != nil && !errors.Is(err, pipeline.ErrStale) {
			return res, err
		}
	}
	return res, nil
}

// stopFailed explains a refused StopPipelineExecution. A conflict usually
// means the execution ended in the meantime; say so when it did.
func (c *Coordinator) stopFailed(ctx context.Context, arn pipeline.ExecutionARN, err error) error {
	coded := fromSageMaker("stop execution", arn.String(), err)
	if pipeline.Code(coded) != pipeline.EConflict {
		return coded
	}
	desc, derr := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
	if derr == nil && pipeline.ExecutionStatus(desc.PipelineExecutionStatus).Terminal() {
		return fmt.Errorf("stop %s: %w", arn, pipeline.Errorf(pipeline.EConflict, "execution %s has already ended: %s", arn.ExecutionID, desc.PipelineExecutionStatus))
	}
	return coded
}

// stopFields validates a stop's reason, mode and idempotency key and fills
// in their defaults.
func stopFields(reason, modeIn, key string) (pipeline.StopMode, string, string, error) {
	mode, err := pipeline.ParseStopMode(modeIn)
	if err != nil {
		return "", "", "", err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = DefaultReason
	}
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > pipeline.MaxReasonLength {
		return "", "", "", pipeline.Errorf(pipeline.EInvalid, "reason must be valid UTF-8 of at most %d characters", pipeline.MaxReasonLength)
	}
	if key == "" {
		key = string(mode)
	}
	if len(key) > MaxKeyLength || !printable(key) {
		return "", "", "", pipeline.Errorf(pipeline.EInvalid, "idempotency key must be 1-%d printable ASCII characters", MaxKeyLength)
	}
	return mode, reason, key, nil
}

func printable(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
