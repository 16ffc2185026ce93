package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// MaxRuntimeKey is the idempotency key of a stop for exceeding the
// pipeline's maximum runtime: one per execution, however many runs see it.
const MaxRuntimeKey = "max-runtime"

// sweepOne reconciles one execution with SageMaker and acts on what it
// finds. A failure is logged and counted; the next pass tries again.
func (r *run) sweepOne(ctx context.Context, e pipeline.Execution) {
	r.report.Executions++
	if !r.deadline.IsZero() {
		// One stuck execution (a cleaner that hangs, a slow SageMaker) must
		// not use up the run's reserve.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, r.deadline)
		defer cancel()
	}
	if err := r.sweepExecution(ctx, e); err != nil {
		r.report.Errors++
		r.log.WarnContext(ctx, "sweep of execution failed; the next pass retries", logging.KeyExecutionARN, e.ExecutionARN, logging.KeyError, err.Error())
	}
}

func (r *run) sweepExecution(ctx context.Context, e pipeline.Execution) error {
	arn, err := pipeline.ParseExecutionARN(e.ExecutionARN)
	if err != nil {
		return fmt.Errorf("sweep: ledger holds %w", err)
	}
	desc, err := r.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
	if err != nil {
		return fromSageMaker("describe execution", arn.String(), err)
	}
	steps, err := listSteps(ctx, r.sm, arn)
	if err != nil {
		return err
	}
	view, err := r.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return err
	}
	if err := r.reconcileSteps(ctx, arn, view, steps); err != nil {
		return err
	}
	for _, open := range openCallbacks(callbackSteps(steps), view.Tokens) {
		r.report.OpenCallbacks++
		if age := r.at.Sub(open.step.started); !open.step.started.IsZero() && age > r.oldestCallback {
			r.oldestCallback = age
		}
	}
	status := pipeline.ExecutionStatus(desc.PipelineExecutionStatus)
	rec := e
	if view.Execution != nil {
		rec = *view.Execution
	}
	if status.Rank() > rec.Status.Rank() {
		res, err := r.status.RecordExecution(ctx, executionFromSageMaker(arn, desc))
		if err != nil {
			return err
		}
		if res.Skipped == nil {
			r.report.Reconciled++
		}
		if status == pipeline.ExecutionStopping && rec.StoppingSince.IsZero() {
			rec.StoppingSince = aws.ToTime(desc.LastModifiedTime)
		}
	}
	p := r.policyFor(arn.Pipeline)
	switch status {
	case pipeline.ExecutionExecuting:
		started := rec.StartedAt
		if started.IsZero() {
			started = aws.ToTime(desc.CreationTime)
		}
		if p.MaxRuntime > 0 && r.at.Sub(started) > p.MaxRuntime {
			return r.stopOverdue(ctx, arn, p.MaxRuntime)
		}
		if failed := failedStep(steps); p.FailFast && failed != "" {
			// The event that should have stopped it may have failed to
			// record, or its stop may have failed: do it again (idempotent).
			return r.stopFailFast(ctx, arn, failed)
		}
	case pipeline.ExecutionStopping:
		if stopping := r.at.Sub(rec.StoppingSince); !rec.StoppingSince.IsZero() && stopping > p.GracePeriod {
			return r.unblock(ctx, arn, view, steps, stopping > p.ForceDeadline, p.GracePeriod, p.ForceDeadline)
		}
	}
	return nil
}

// reconcileSteps records every step SageMaker has further along than the
// ledger, through the same order-safe writes as the events (so a failed
// step still triggers fail-fast, and a Lambda step gets its timeout).
func (r *run) reconcileSteps(ctx context.Context, arn pipeline.ExecutionARN, view pipeline.View, steps []smtypes.PipelineExecutionStep) error {
	recorded := make(map[string]pipeline.StepStatus, len(view.Steps))
	for _, s := range view.Steps {
		recorded[s.StepName] = s.Status
	}
	for _, s := range steps {
		status := pipeline.StepStatus(s.StepStatus)
		if status.Rank() <= recorded[aws.ToString(s.StepName)].Rank() {
			continue
		}
		res, err := r.status.RecordStep(ctx, stepFromSageMaker(arn, s, r.at))
		if err != nil {
			return err
		}
		if res.Skipped == nil {
			r.report.Reconciled++
		}
		if res.FailFast != nil {
			r.report.Calls += callsPerStop
		}
	}
	return nil
}

// stopOverdue stops an execution past its pipeline's maximum runtime.
func (r *run) stopOverdue(ctx context.Context, arn pipeline.ExecutionARN, maxRuntime time.Duration) error {
	return r.stop(ctx, StopInput{
		ExecutionARN: arn.String(),
		Reason:       fmt.Sprintf("ran longer than its pipeline's maximum runtime of %s", maxRuntime),
		Key:          MaxRuntimeKey,
		RequestedBy:  "sweeper max-runtime",
	})
}

// stopFailFast stops an execution of a fail-fast pipeline with a failed
// step, under the same key as the status event's stop.
func (r *run) stopFailFast(ctx context.Context, arn pipeline.ExecutionARN, step string) error {
	return r.stop(ctx, StopInput{
		ExecutionARN: arn.String(),
		Reason:       truncate("fail-fast: step "+step+" failed", pipeline.MaxReasonLength),
		Key:          FailFastKey,
		RequestedBy:  "sweeper fail-fast",
	})
}

func (r *run) stop(ctx context.Context, in StopInput) error {
	r.report.Calls += callsPerStop
	res, err := r.stopper.Stop(ctx, in)
	switch {
	case err == nil:
		r.report.Stopped++
		r.log.InfoContext(ctx, "sweeper stopped an execution", logging.KeyExecutionARN, in.ExecutionARN, logging.KeyStopID, res.Stop.ID, "requestedBy", in.RequestedBy)
		return nil
	case FinalStopError(err):
		return nil // it ended meanwhile, or is not ours to stop
	}
	return err
}

// failedStep names a failed step of the listing, or "".
func failedStep(steps []smtypes.PipelineExecutionStep) string {
	for _, s := range steps {
		if s.StepStatus == smtypes.StepStatusFailed {
			return aws.ToString(s.StepName)
		}
	}
	return ""
}

// unblock re-drives the cleanup of the open callbacks of an execution
// stuck in Stopping, or, past the force deadline, answers them without
// cleanup. Open means SageMaker still waits on the step and the ledger
// has no answer for its token.
func (r *run) unblock(ctx context.Context, arn pipeline.ExecutionARN, view pipeline.View, steps []smtypes.PipelineExecutionStep, force bool, grace, deadline time.Duration) error {
	reason := fmt.Sprintf("stop still blocked after the grace period of %s: cleanup run again", grace)
	if force {
		reason = fmt.Sprintf("stop still blocked after the force deadline of %s: answered without cleanup", deadline)
	}
	var errs []error
	for _, open := range openCallbacks(callbackSteps(steps), view.Tokens) {
		token := open.step.token
		r.report.Calls += callsPerAnswer
		if err := r.answerer.CleanupAndAnswer(ctx, arn, token, force, reason); err != nil {
			errs = append(errs, fmt.Errorf("unblock %s token %s: %w", arn, pipeline.TokenRef(token), err))
			continue
		}
		if force {
			r.report.Forced++
		} else {
			r.report.Cleaned++
		}
		r.log.InfoContext(ctx, "unblocked a stuck stop", logging.KeyExecutionARN, arn.String(), logging.KeyStepName, open.step.name, logging.KeyToken, pipeline.TokenRef(token), "force", force)
	}
	if len(errs) > 0 {
		return fmt.Errorf("unblock %s: %w", arn, errors.Join(errs...))
	}
	return nil
}
