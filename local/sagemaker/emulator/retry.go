package emulator

import (
	"context"
	"time"
)

// retryPipelineExecution takes a Failed or Stopped execution back to
// Executing, in place (same ARN). Steps that succeeded are kept (unless
// RetryRerunsAll); failed and stopped steps run again as new attempts, and
// steps that never started run when their dependencies allow, exactly as in
// a first run. Each transition emits its status event: the execution's
// Failed->Executing (or Stopped->Executing), then Starting... for every
// step that runs again.
func (e *Emulator) retryPipelineExecution(_ context.Context, in *retryPipelineExecutionInput) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if out, ok, err := e.replay("RetryPipelineExecution", in.ClientRequestToken, in); ok || err != nil {
		return out, err
	}
	if e.closed {
		return nil, errUnavailable()
	}
	x, err := e.findExecution(*in.PipelineExecutionArn)
	if err != nil {
		return nil, err
	}
	if x.status != statusFailed && x.status != statusStopped {
		return nil, errConflict("Pipeline execution '%s' is in status %s; only Failed or Stopped executions can be retried.", x.arn, x.status)
	}
	if x.retries >= e.opts.MaxRetries {
		return nil, errLimit("Pipeline execution '%s' was already retried %d times, the most the emulator allows.", x.arn, x.retries)
	}
	if e.runningExecutions() >= e.opts.MaxRunningExecutions {
		return nil, errLimit("The account-level service limit 'Maximum number of concurrent pipeline executions' is %d.", e.opts.MaxRunningExecutions)
	}

	// Steps to run again leave the current attempts for the history, so
	// the runner starts them afresh and finish no longer sees their failure.
	kept := x.steps[:0:0]
	for _, s := range x.steps {
		if s.status == statusSucceeded && !e.opts.Switches.RetryRerunsAll {
			kept = append(kept, s)
			continue
		}
		x.history = append(x.history, s)
		delete(x.byName, s.def.Name)
	}
	x.steps = kept
	x.retries++
	x.failureReason, x.ended = "", time.Time{}
	x.stopCh = make(chan struct{})
	if in.ParallelismConfiguration != nil {
		x.parallelism = in.ParallelismConfiguration.MaxParallelExecutionSteps
	}
	e.setExecutionStatus(x, statusExecuting, "")
	if !e.goEngine(func() { e.run(x) }) {
		return nil, errUnavailable()
	}
	out := &executionArnOutput{PipelineExecutionArn: x.arn}
	e.remember("RetryPipelineExecution", in.ClientRequestToken, in, out)
	e.log.Info("execution retried", "executionArn", x.arn, "retries", x.retries)
	return out, nil
}

// lastAttempt is the latest attempt a retry replaced for the step, or nil.
// Caller holds e.mu.
func (x *execution) lastAttempt(name string) *stepRun {
	for j := len(x.history) - 1; j >= 0; j-- {
		if x.history[j].def.Name == name {
			return x.history[j]
		}
	}
	return nil
}
