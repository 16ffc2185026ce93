package coordinator_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestCleanupAndAnswerForTheSweeper(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(map[bool]string{false: "clean then answer", true: "force"}[force], func(t *testing.T) {
			fails := true
			cleaner := &fakeCleaner{fn: func(int, pipeline.Resource) error {
				if fails {
					return errors.New("still running")
				}
				return nil
			}}
			w := newCBWorld(t, cleaner)
			arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
			start := w.next(t, arn, callback.StatusExecuting)
			if _, err := w.deliver(start.body, 1); err != nil {
				t.Fatal(err)
			}
			if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
				t.Fatal(err)
			}
			exec := mustARN(t, arn)
			if !force {
				if err := w.cb.CleanupAndAnswer(w.Ctx, exec, start.m.Token, false, "swept"); err == nil {
					t.Fatal("a failing cleanup was answered without force")
				}
				fails = false
			}
			if err := w.cb.CleanupAndAnswer(w.Ctx, exec, start.m.Token, force, "swept"); err != nil {
				t.Fatal(err)
			}
			w.WaitStatus(arn, smtypes.PipelineExecutionStatusStopped)
			view, err := w.Ledger.ReadExecution(w.Ctx, exec)
			if err != nil {
				t.Fatal(err)
			}
			want := pipeline.CleanupSucceeded
			if force {
				want = pipeline.CleanupSkipped
			}
			if len(view.Cleanups) != 1 || view.Cleanups[0].Status != want || view.Tokens[0].State != pipeline.TokenAnswered || view.Tokens[0].Reason != "swept" {
				t.Fatalf("cleanups %+v tokens %+v", view.Cleanups, view.Tokens)
			}
			// Again is a no-op.
			if err := w.cb.CleanupAndAnswer(w.Ctx, exec, start.m.Token, force, "swept"); err != nil {
				t.Fatal(err)
			}
			if failures, _ := w.answers.answers(); len(failures) != 1 {
				t.Fatalf("%d answers, want 1", len(failures))
			}
		})
	}
}

// deadlineCleaner records how long each cleaner call was given.
type deadlineCleaner struct {
	mu   sync.Mutex
	left []time.Duration // time to the context's deadline when called; 0: none
}

func (c *deadlineCleaner) Clean(ctx context.Context, _ pipeline.Resource, _ callback.Context) error {
	var left time.Duration
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	c.mu.Lock()
	c.left = append(c.left, left)
	c.mu.Unlock()
	return nil
}

// The sweeper's re-driven cleanup is held to the configured cleaner
// timeout, as the Stopping message's is, not to the whole invocation.
func TestSweeperCleanupHonoursTheCleanerTimeout(t *testing.T) {
	w := newCBWorld(t, &fakeCleaner{})
	cleaner := &deadlineCleaner{}
	const timeout = 250 * time.Millisecond
	w.deps.Cleaner, w.deps.CleanerTimeout = cleaner, timeout
	w.cb = coordinator.New(w.deps)
	arn := w.Start(w.CreatePipeline(definition(callbackStepWith("Etl", w.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	start := w.next(t, arn, callback.StatusExecuting)
	if _, err := w.deliver(start.body, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	// The test's own context has a far deadline, or none: the bound must
	// come from the setting.
	if err := w.cb.CleanupAndAnswer(w.Ctx, mustARN(t, arn), start.m.Token, false, "swept"); err != nil {
		t.Fatal(err)
	}
	cleaner.mu.Lock()
	defer cleaner.mu.Unlock()
	if len(cleaner.left) != 1 || cleaner.left[0] <= 0 || cleaner.left[0] > timeout {
		t.Fatalf("the cleaner had %v before its deadline, want one call bounded by %v", cleaner.left, timeout)
	}
}
