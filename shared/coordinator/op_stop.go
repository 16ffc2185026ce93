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
	// Pending lists the tokens a force stop found being answered by another
	// attempt (a Stopping message's cleanup): that attempt answers them.
	Pending []string
}

// Stop stops an execution: it records the request, asks SageMaker to stop
// with a ClientRequestToken derived from the execution, and, in force mode,
// answers every open callback token with a failure at once. It is safe to
// repeat: a request with the same key returns the first one, whatever
// happened since (the execution may have ended), without asking SageMaker
// to stop again, and a force repeated finishes the answers a failure left.
// A request that joins a stop already under way keeps its own key.
func (s *Service) Stop(ctx context.Context, in StopInput) (StopResult, error) {
	arn, req, err := s.validate(in)
	if err != nil {
		return StopResult{}, err
	}
	// The key first: an idempotent retry gets its stop even after the end.
	prev, found, err := s.stopOfKey(ctx, arn, req.Key)
	if err != nil {
		return StopResult{}, err
	}
	desc, err := s.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
	if err != nil {
		return StopResult{}, fromSageMaker("describe execution", arn.String(), err)
	}
	status := pipeline.ExecutionStatus(desc.PipelineExecutionStatus)
	if found && prev.Phase == pipeline.StopClosed {
		last, n, err := s.latestAttempt(ctx, arn, req.Key, prev)
		if status.Terminal() || err != nil {
			return StopResult{Stop: last, Status: last.Outcome}, err
		}
		// The stop closed and the execution runs again: it was retried
		// (RetryPipelineExecution). A stop of the new attempt is under the
		// key's next attempt, unless that attempt has its stop already.
		if last.Phase == pipeline.StopClosed {
			if n == maxAttempts {
				return StopResult{}, pipeline.Errorf(pipeline.EConflict, "execution %s has more than %d stopped attempts", arn.ExecutionID, maxAttempts)
			}
			n++
			last, found = pipeline.StopRequest{}, false
		}
		req.Key, prev = attemptKey(req.Key, n), last
	}
	if status.Terminal() {
		if found {
			return StopResult{Stop: prev, Status: status}, nil // ours; it closes with the execution's event
		}
		return StopResult{Status: status}, pipeline.Errorf(pipeline.EConflict, "execution %s has already ended: %s", arn.ExecutionID, status)
	}

	res := StopResult{Stop: prev, Status: status}
	if !found {
		if res.Stop, res.Created, err = s.ledger.CreateStop(ctx, req); err != nil {
			return res, err
		}
	}
	if res.Stop.Phase == pipeline.StopRequested {
		detail := "StopPipelineExecution accepted"
		if status == pipeline.ExecutionStopping {
			// Stopped by another request or from outside stopcoord: joined,
			// not asked again.
			res.AlreadyStopping, detail = true, "execution was already Stopping"
		} else if err := s.issue(ctx, arn, res.Stop.ID); err != nil {
			return res, err
		}
		if res.Stop, err = s.ledger.AdvanceStop(ctx, arn, res.Stop.ID, pipeline.StopIssued, s.now(), detail); err != nil && !errors.Is(err, pipeline.ErrStale) {
			return res, err
		}
	}
	if res.Stop.Mode == pipeline.StopForce {
		res.Answered, res.Pending, err = s.forceAnswer(ctx, arn, res.Stop)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// stopOfKey reads the stop request of a key, if there is one.
func (s *Service) stopOfKey(ctx context.Context, arn pipeline.ExecutionARN, key string) (pipeline.StopRequest, bool, error) {
	stop, err := s.ledger.StopOf(ctx, arn, pipeline.StopID(arn, key))
	switch {
	case errors.Is(err, pipeline.ErrNotFound):
		return stop, false, nil
	case err != nil:
		return stop, false, err
	}
	return stop, true, nil
}

// maxAttempts bounds the retried attempts of one execution a key follows.
const maxAttempts = 1000

// latestAttempt follows a key through the attempts of a retried execution
// ("key", then "key#attempt-2", "key#attempt-3"...) to the last one that
// has a stop, and returns that stop and its attempt number. first is the
// first attempt's stop. A repeat of a request once everything ended gets
// the latest stop; a stop of an attempt after a closed one takes the next
// number.
func (s *Service) latestAttempt(ctx context.Context, arn pipeline.ExecutionARN, key string, first pipeline.StopRequest) (pipeline.StopRequest, int, error) {
	last := first
	for n := 2; n <= maxAttempts; n++ {
		stop, found, err := s.stopOfKey(ctx, arn, attemptKey(key, n))
		if err != nil || !found {
			return last, n - 1, err
		}
		last = stop
	}
	return last, maxAttempts, nil
}

// attemptKey is the idempotency key of attempt n (from 1) under key.
func attemptKey(key string, n int) string {
	if n == 1 {
		return key
	}
	k := fmt.Sprintf("%s#attempt-%d", key, n)
	if len(k) > MaxKeyLength {
		k = k[len(k)-MaxKeyLength:]
	}
	return k
}

// issue asks SageMaker to stop, with a ClientRequestToken derived from the
// stop request, and records the execution Stopping: the Stopping event will
// say the same, and recording it now lets the view and the sweeper see the
// stop at once. Order-safe, so harmless.
func (s *Service) issue(ctx context.Context, arn pipeline.ExecutionARN, stopID string) error {
	_, err := s.sm.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{
		PipelineExecutionArn: aws.String(arn.String()),
		// Per stop request: a retry of the request is the call SageMaker
		// accepted, while a stop of a retried execution's new attempt is a
		// new call (one token per execution would be replayed, and stop
		// nothing).
		ClientRequestToken: aws.String(pipeline.RequestToken("stop", arn.String(), stopID)),
	})
	if err != nil {
		return s.stopFailed(ctx, arn, err)
	}
	if _, err := s.ledger.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: s.now()}); err != nil && pipeline.Code(err) != pipeline.EConflict {
		return err
	}
	return nil
}

// validate checks the request and turns it into the ledger's NewStop.
func (s *Service) validate(in StopInput) (pipeline.ExecutionARN, pipeline.NewStop, error) {
	arn, err := pipeline.ParseExecutionARN(strings.TrimSpace(in.ExecutionARN))
	if err != nil {
		return arn, pipeline.NewStop{}, err
	}
	mode, reason, key, err := stopFields(in.Reason, in.Mode, in.Key)
	if err != nil {
		return arn, pipeline.NewStop{}, err
	}
	if err := s.access.Check(arn); err != nil {
		return arn, pipeline.NewStop{}, err
	}
	return arn, pipeline.NewStop{ARN: arn, Key: key, Mode: mode, Reason: reason, RequestedBy: in.RequestedBy, At: s.now()}, nil
}

// stopFailed explains a refused StopPipelineExecution. A conflict usually
// means the execution ended in the meantime; say so when it did.
func (s *Service) stopFailed(ctx context.Context, arn pipeline.ExecutionARN, err error) error {
	coded := fromSageMaker("stop execution", arn.String(), err)
	if pipeline.Code(coded) != pipeline.EConflict {
		return coded
	}
	desc, derr := s.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
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
