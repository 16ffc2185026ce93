package coordinator_test

import (
	"errors"
	"testing"

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
