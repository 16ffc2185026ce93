package main

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// instantLedger answers every ledger call at once: what remains is the
// function's own cost per event (decode, translate, decide, log).
type instantLedger struct {
	coordinator.Ledger // calls an event must not make panic
}

func (instantLedger) RecordExecutionStatus(_ context.Context, c pipeline.ExecutionChange) (pipeline.Execution, error) {
	return pipeline.Execution{Status: c.Status, StatusAt: c.At, EndedAt: c.EndedAt}, nil
}

func (instantLedger) RecordStepStatus(_ context.Context, c pipeline.StepChange) (pipeline.Step, error) {
	return pipeline.Step{Status: c.Status}, nil
}

func (instantLedger) ReadExecution(context.Context, pipeline.ExecutionARN) (pipeline.View, error) {
	return pipeline.View{Stops: []pipeline.StopRequest{{ID: "s", Phase: pipeline.StopIssued}}}, nil
}

func (instantLedger) CloseStop(context.Context, pipeline.ExecutionARN, string, pipeline.ExecutionStatus, time.Time, time.Time) (pipeline.StopRequest, error) {
	return pipeline.StopRequest{}, nil
}

// BenchmarkEvent is the per-event overhead of the handler, through the
// runtime's decode path, with the AWS clients faked out.
func BenchmarkEvent(b *testing.B) {
	prev := slog.Default()
	slog.SetDefault(logging.NewTo(io.Discard, slog.LevelInfo))
	b.Cleanup(func() { slog.SetDefault(prev) })
	for _, sample := range []string{"step-executing-callback.json", "step-succeeded.json", "execution-stopped.json", "stop-requested-execution.json"} {
		raw, err := samples.FS.ReadFile("eventbridge/" + sample)
		if err != nil {
			b.Fatal(err)
		}
		h := &handler{status: coordinator.New(coordinator.Deps{Ledger: instantLedger{}}), stops: &fakes{}, access: pipeline.AllowList{Accounts: []string{"123456789012"}}}
		invoke := lambda.NewHandler(h.handle).Invoke
		b.Run(sample, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := invoke(context.Background(), raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
