package coordinator

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// cleanupFailure is the first cleanup that failed, for the answer's reason
// and the attention flag.
type cleanupFailure struct {
	what string // "sfn-execution arn:..."
	err  error
}

func (f *cleanupFailure) Error() string { return f.what + ": " + f.err.Error() }

// clean runs the cleaner of every resource in the plan that has not been
// cleaned yet, concurrently, each within the cleaner timeout, and records
// every attempt. Resources cleaned by an earlier delivery are skipped, so a
// retry repeats only what failed. It returns the first failure, or nil.
func (c *Callbacks) clean(ctx context.Context, arn pipeline.ExecutionARN, token string, plan []pipeline.Resource, cc callback.Context, done []pipeline.Cleanup) *cleanupFailure {
	cleaned := map[string]bool{}
	for _, cl := range done {
		if cl.Token == token && cl.Status == pipeline.CleanupSucceeded {
			cleaned[cl.Resource.Key()] = true
		}
	}
	var todo []pipeline.Resource
	for _, r := range plan {
		if !cleaned[r.Key()] {
			todo = append(todo, r)
		}
	}
	if len(todo) == 1 {
		return c.cleanOne(ctx, arn, token, todo[0], cc) // nothing to overlap
	}
	failures := make([]*cleanupFailure, len(todo))
	var wg sync.WaitGroup
	for i, r := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			failures[i] = c.cleanOne(ctx, arn, token, r, cc)
		}()
	}
	wg.Wait()
	for _, f := range failures {
		if f != nil {
			return f
		}
	}
	return nil
}

// cleanOne runs one cleaner and records the attempt. A failure to record
// counts as a failed cleanup: the ledger must show every attempt, and the
// retry will clean (harmlessly, cleaners treat "already stopped" as done)
// and record again.
func (c *Callbacks) cleanOne(ctx context.Context, arn pipeline.ExecutionARN, token string, r pipeline.Resource, cc callback.Context) (failure *cleanupFailure) {
	what := r.Kind + " " + r.ID
	defer func() {
		// A cleaner is third-party-facing code; a panic in one must fail
		// that cleanup, not the whole batch.
		if p := recover(); p != nil {
			failure = &cleanupFailure{what: what, err: fmt.Errorf("cleaner panicked: %v", p)}
		}
	}()
	start := c.now()
	cctx, cancel := context.WithTimeout(ctx, c.cleanerTimeout)
	err := c.cleanWith(cctx, r, cc)
	cancel()
	result := pipeline.CleanupResult{ARN: arn, Token: token, Resource: r, Status: pipeline.CleanupSucceeded, At: start, Duration: c.now().Sub(start)}
	if err != nil {
		result.Status, result.Error = pipeline.CleanupFailed, truncate(err.Error(), 1024)
		failure = &cleanupFailure{what: what, err: err}
	}
	if _, rerr := c.ledger.RecordCleanup(ctx, result); rerr != nil {
		slog.ErrorContext(ctx, "record cleanup", logging.KeyExecutionARN, arn.String(), logging.KeyToken, token, "resource", r.Key(), logging.KeyError, rerr.Error())
		if failure == nil {
			failure = &cleanupFailure{what: what, err: fmt.Errorf("record the cleanup: %w", rerr)}
		}
	}
	return failure
}

func (c *Callbacks) cleanWith(ctx context.Context, r pipeline.Resource, cc callback.Context) error {
	if c.cleaner == nil {
		return pipeline.Errorf(pipeline.EInternal, "no cleaners configured")
	}
	return c.cleaner.Clean(ctx, r, cc)
}
