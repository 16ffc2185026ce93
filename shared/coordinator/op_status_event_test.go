package coordinator_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
)

// statusLedger is a function-field fake of coordinator.StatusLedger.
type statusLedger struct {
	coordinator.Ledger // operations a status test must not reach panic
	recordExecution    func(pipeline.ExecutionChange) (pipeline.Execution, error)
	recordStep         func(pipeline.StepChange) (pipeline.Step, error)
	view               pipeline.View
	closed             []string
	closedAt           []time.Time
	sageMakerAt        []time.Time
}

func (l *statusLedger) RecordExecutionStatus(_ context.Context, c pipeline.ExecutionChange) (pipeline.Execution, error) {
	return l.recordExecution(c)
}

func (l *statusLedger) RecordStepStatus(_ context.Context, c pipeline.StepChange) (pipeline.Step, error) {
	return l.recordStep(c)
}

func (l *statusLedger) ReadExecution(context.Context, pipeline.ExecutionARN) (pipeline.View, error) {
	return l.view, nil
}

func (l *statusLedger) CloseStop(_ context.Context, _ pipeline.ExecutionARN, id string, _ pipeline.ExecutionStatus, at, sageMakerAt time.Time) (pipeline.StopRequest, error) {
	l.closed = append(l.closed, id)
	l.closedAt = append(l.closedAt, at)
	l.sageMakerAt = append(l.sageMakerAt, sageMakerAt)
	if id == "closed-elsewhere" {
		return pipeline.StopRequest{}, pipeline.ErrDuplicate
	}
	return pipeline.StopRequest{}, nil
}

type stopperFunc func(coordinator.StopInput) (coordinator.StopResult, error)

func (f stopperFunc) Stop(_ context.Context, in coordinator.StopInput) (coordinator.StopResult, error) {
	return f(in)
}

type failFast bool

func (f failFast) For(string) policy.Policy { return policy.Policy{FailFast: bool(f)} }

type describeDefinitionFunc func(*sagemaker.DescribePipelineDefinitionForExecutionInput) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error)

func (f describeDefinitionFunc) DescribePipelineDefinitionForExecution(_ context.Context, in *sagemaker.DescribePipelineDefinitionForExecutionInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error) {
	return f(in)
}

var (
	statusARN, _ = pipeline.ParseExecutionARN("arn:aws:sagemaker:us-east-1:123456789012:pipeline/dev-train/execution/abc123abc123")
	tEnd         = time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
)

func TestTerminalStatusClosesEveryOpenStop(t *testing.T) {
	tests := []struct {
		name       string
		recorded   error // what the ledger's write returns
		status     pipeline.ExecutionStatus
		wantClosed []string
	}{
		{"newly terminal", nil, pipeline.ExecutionStopped, []string{"open", "closed-elsewhere"}},
		{"a repeat of the terminal event still closes", pipeline.ErrDuplicate, pipeline.ExecutionStopped, []string{"open", "closed-elsewhere"}},
		{"a late Stopping changes nothing", pipeline.ErrTerminal, pipeline.ExecutionStopping, nil},
		{"not terminal", nil, pipeline.ExecutionStopping, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &statusLedger{
				recordExecution: func(c pipeline.ExecutionChange) (pipeline.Execution, error) {
					rec := pipeline.Execution{Status: tt.status, StatusAt: c.At}
					if tt.status.Terminal() || tt.recorded == pipeline.ErrTerminal {
						rec = pipeline.Execution{Status: pipeline.ExecutionStopped, StatusAt: tEnd, EndedAt: tEnd}
					}
					return rec, tt.recorded
				},
				view: pipeline.View{Stops: []pipeline.StopRequest{
					{ID: "open", Phase: pipeline.StopIssued, CreatedAt: tEnd.Add(-time.Minute)},
					{ID: "done", Phase: pipeline.StopClosed},
					{ID: "closed-elsewhere", Phase: pipeline.StopIssued, CreatedAt: tEnd.Add(time.Second)},
				}},
			}
			observed := tEnd.Add(2 * time.Second)
			s := coordinator.New(coordinator.Deps{Ledger: l, Clock: func() time.Time { return observed }})
			res, err := s.RecordExecution(context.Background(), pipeline.ExecutionChange{ARN: statusARN, Status: tt.status, At: tEnd})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(res.Skipped, tt.recorded) || len(res.ClosedStops) != len(tt.wantClosed) {
				t.Fatalf("result %+v, want skipped %v and closed %v", res, tt.recorded, tt.wantClosed)
			}
			for i, id := range tt.wantClosed {
				if res.ClosedStops[i] != id {
					t.Fatalf("closed %v, want %v", res.ClosedStops, tt.wantClosed)
				}
			}
			// SageMaker's end closes the stop made before it; the stop made
			// after it (the event's whole second reads early) closes when
			// stopcoord saw the end. SageMaker's time is kept with both.
			if len(tt.wantClosed) > 0 && (!l.closedAt[0].Equal(tEnd) || !l.closedAt[1].Equal(observed) || !l.sageMakerAt[1].Equal(tEnd)) {
				t.Fatalf("closed at %v with SageMaker's %v", l.closedAt, l.sageMakerAt)
			}
		})
	}
}

func TestFailedStepStopsAFailFastPipeline(t *testing.T) {
	tests := []struct {
		name        string
		policy      failFast
		status      pipeline.StepStatus
		recorded    error
		stopErr     error
		wantStops   int
		wantErr     bool
		wantSettled bool
	}{
		{"fail-fast stops", true, pipeline.StepFailed, nil, nil, 1, false, false},
		{"a repeated failure stops again, idempotently", true, pipeline.StepFailed, pipeline.ErrDuplicate, nil, 1, false, false},
		{"no fail-fast", false, pipeline.StepFailed, nil, nil, 0, false, false},
		{"not a failure", true, pipeline.StepSucceeded, nil, nil, 0, false, false},
		{"the execution ended", true, pipeline.StepFailed, nil, pipeline.Errorf(pipeline.EConflict, "ended"), 1, false, true},
		{"throttled is retried", true, pipeline.StepFailed, nil, pipeline.Errorf(pipeline.EThrottled, "slow"), 1, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stops []coordinator.StopInput
			l := &statusLedger{recordStep: func(pipeline.StepChange) (pipeline.Step, error) { return pipeline.Step{}, tt.recorded }}
			s := coordinator.New(coordinator.Deps{Ledger: l, Policies: tt.policy})
			coordinator.ReplaceStopper(s, stopperFunc(func(in coordinator.StopInput) (coordinator.StopResult, error) {
				stops = append(stops, in)
				return coordinator.StopResult{}, tt.stopErr
			}))
			res, err := s.RecordStep(context.Background(), pipeline.StepChange{ARN: statusARN, StepName: "Train", Status: tt.status, FailureReason: "OOM", At: tEnd})
			if (err != nil) != tt.wantErr || len(stops) != tt.wantStops || (res.FailFastSettled != nil) != tt.wantSettled {
				t.Fatalf("RecordStep: res %+v err %v, %d stops; want err %v, %d stops, settled %v", res, err, len(stops), tt.wantErr, tt.wantStops, tt.wantSettled)
			}
			if len(stops) == 1 && (stops[0].Key != coordinator.FailFastKey || stops[0].Reason != "fail-fast: step Train failed: OOM" || stops[0].ExecutionARN != statusARN.String()) {
				t.Fatalf("stop %+v", stops[0])
			}
		})
	}
}

func TestRunningLambdaStepGetsItsTimeoutOncePerExecution(t *testing.T) {
	calls := 0
	defs := coordinator.NewDefinitions(describeDefinitionFunc(func(in *sagemaker.DescribePipelineDefinitionForExecutionInput) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error) {
		calls++
		if aws.ToString(in.PipelineExecutionArn) != statusARN.String() {
			t.Errorf("described %s, want the execution's definition", aws.ToString(in.PipelineExecutionArn))
		}
		return &sagemaker.DescribePipelineDefinitionForExecutionOutput{PipelineDefinition: aws.String(`{"Steps":[{"Name":"Fn","Type":"Lambda","Timeout":300},{"Name":"Other","Type":"Lambda"}]}`)}, nil
	}), time.Minute, nil)
	var recorded []time.Duration
	l := &statusLedger{recordStep: func(c pipeline.StepChange) (pipeline.Step, error) {
		recorded = append(recorded, c.LambdaTimeout)
		return pipeline.Step{}, nil
	}}
	s := coordinator.New(coordinator.Deps{Ledger: l, Definitions: defs})
	for _, c := range []pipeline.StepChange{
		{ARN: statusARN, StepName: "Fn", Kind: pipeline.KindLambda, Status: pipeline.StepExecuting},
		{ARN: statusARN, StepName: "Other", Kind: pipeline.KindLambda, Status: pipeline.StepStarting},
		{ARN: statusARN, StepName: "Fn", Kind: pipeline.KindLambda, Status: pipeline.StepSucceeded},
		{ARN: statusARN, StepName: "Job", Kind: pipeline.KindTraining, Status: pipeline.StepExecuting},
	} {
		if _, err := s.RecordStep(context.Background(), c); err != nil {
			t.Fatal(err)
		}
	}
	want := []time.Duration{300 * time.Second, coordinator.DefaultLambdaTimeout, 0, 0}
	for i := range want {
		if recorded[i] != want[i] {
			t.Fatalf("recorded timeouts %v, want %v", recorded, want)
		}
	}
	if calls != 1 {
		t.Fatalf("%d DescribePipelineDefinitionForExecution calls, want 1 (cached)", calls)
	}
}
