package coordinator_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
)

// fakeSageMaker answers the sweeper's SageMaker calls from a table of
// executions and counts the calls.
type fakeSageMaker struct {
	coordinator.SageMaker // calls the sweeper must not make panic
	mu                    sync.Mutex
	executions            map[string]*sagemaker.DescribePipelineExecutionOutput
	steps                 map[string][]smtypes.PipelineExecutionStep
	calls                 map[string]int
	described             []string
}

func newFakeSageMaker() *fakeSageMaker {
	return &fakeSageMaker{executions: map[string]*sagemaker.DescribePipelineExecutionOutput{}, steps: map[string][]smtypes.PipelineExecutionStep{}, calls: map[string]int{}}
}

func (f *fakeSageMaker) set(arn string, status smtypes.PipelineExecutionStatus, created, modified time.Time, steps ...smtypes.PipelineExecutionStep) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.executions[arn] = &sagemaker.DescribePipelineExecutionOutput{PipelineExecutionArn: aws.String(arn), PipelineExecutionStatus: status, CreationTime: aws.Time(created), LastModifiedTime: aws.Time(modified)}
	f.steps[arn] = steps
}

func (f *fakeSageMaker) DescribePipelineExecution(_ context.Context, in *sagemaker.DescribePipelineExecutionInput, _ ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DescribePipelineExecution"]++
	f.described = append(f.described, aws.ToString(in.PipelineExecutionArn))
	out, ok := f.executions[aws.ToString(in.PipelineExecutionArn)]
	if !ok {
		return nil, &smtypes.ResourceNotFound{Message: aws.String("no such execution")}
	}
	return out, nil
}

func (f *fakeSageMaker) DescribePipelineDefinitionForExecution(context.Context, *sagemaker.DescribePipelineDefinitionForExecutionInput, ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["DescribePipelineDefinitionForExecution"]++
	return &sagemaker.DescribePipelineDefinitionForExecutionOutput{PipelineDefinition: aws.String(`{"Steps":[{"Name":"Fn","Type":"Lambda","Timeout":60}]}`)}, nil
}

func (f *fakeSageMaker) ListPipelineExecutionSteps(_ context.Context, in *sagemaker.ListPipelineExecutionStepsInput, _ ...func(*sagemaker.Options)) (*sagemaker.ListPipelineExecutionStepsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls["ListPipelineExecutionSteps"]++
	return &sagemaker.ListPipelineExecutionStepsOutput{PipelineExecutionSteps: f.steps[aws.ToString(in.PipelineExecutionArn)]}, nil
}

func (f *fakeSageMaker) takeDescribed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := f.described
	f.described = nil
	return d
}

type cleanerFunc func(arn pipeline.ExecutionARN, token string, force bool, reason string) error

func (f cleanerFunc) CleanupAndAnswer(_ context.Context, arn pipeline.ExecutionARN, token string, force bool, reason string) error {
	return f(arn, token, force, reason)
}

// sweepCase is one sweeper scenario: setup records the ledger's state and
// SageMaker's; now is the sweeper's clock.
type sweepCase struct {
	name        string
	setup       func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN
	now         time.Time
	wantStops   []string
	wantCleaned []cleaned
	check       func(t *testing.T, v pipeline.View, r coordinator.SweepReport)
}

type cleaned struct {
	token string
	force bool
}

var sweepT0 = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

func newLedgerT(t *testing.T) *ledger.Ledger {
	t.Helper()
	client, table := dynamodblocal.ClientT(t)
	if err := ledger.CreateTable(context.Background(), client, table); err != nil {
		t.Fatal(err)
	}
	return ledger.New(client, table)
}

func sweepARN(pipe string, i int) pipeline.ExecutionARN {
	arn, err := pipeline.ParseExecutionARN(fmt.Sprintf("arn:aws:sagemaker:us-east-1:123456789012:pipeline/%s/execution/x%011d", pipe, i))
	if err != nil {
		panic(err)
	}
	return arn
}

func callbackAt(name, token string, status smtypes.StepStatus, start time.Time) smtypes.PipelineExecutionStep {
	return smtypes.PipelineExecutionStep{StepName: aws.String(name), StepStatus: status, StartTime: aws.Time(start),
		Metadata: &smtypes.PipelineExecutionStepMetadata{Callback: &smtypes.CallbackStepMetadata{CallbackToken: aws.String(token)}}}
}

func TestSweeperActsOnWhatItFinds(t *testing.T) {
	pols, err := policy.Parse([]byte(`{"policies":[{"pipelines":["dev-*"],"maxRuntime":"2h","gracePeriod":"5m","forceDeadline":"30m"},{"pipelines":["ff-*"],"failFast":true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []sweepCase{
		{
			name: "missed events are reconciled, a Lambda step with its timeout",
			setup: func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN {
				arn := sweepARN("prod-a", 1)
				record(t, l, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: sweepT0, StartedAt: sweepT0})
				recordStep(t, l, pipeline.StepChange{ARN: arn, StepName: "Prep", Status: pipeline.StepStarting, At: sweepT0})
				sm.set(arn.String(), smtypes.PipelineExecutionStatusExecuting, sweepT0, sweepT0.Add(time.Minute),
					smtypes.PipelineExecutionStep{StepName: aws.String("Prep"), StepStatus: smtypes.StepStatusSucceeded, StartTime: aws.Time(sweepT0), EndTime: aws.Time(sweepT0.Add(time.Minute)),
						Metadata: &smtypes.PipelineExecutionStepMetadata{ProcessingJob: &smtypes.ProcessingJobStepMetadata{Arn: aws.String("arn:aws:sagemaker:us-east-1:123456789012:processing-job/p")}}},
					smtypes.PipelineExecutionStep{StepName: aws.String("Fn"), StepStatus: smtypes.StepStatusExecuting, StartTime: aws.Time(sweepT0.Add(time.Minute)),
						Metadata: &smtypes.PipelineExecutionStepMetadata{Lambda: &smtypes.LambdaStepMetadata{Arn: aws.String("arn:aws:lambda:us-east-1:123456789012:function:fn")}}},
					callbackAt("Wait", "Tok0000001", smtypes.StepStatusExecuting, sweepT0.Add(time.Minute)))
				return arn
			},
			now: sweepT0.Add(10 * time.Minute),
			check: func(t *testing.T, v pipeline.View, r coordinator.SweepReport) {
				got := map[string]pipeline.Step{}
				for _, s := range v.Steps {
					got[s.StepName] = s
				}
				if got["Prep"].Status != pipeline.StepSucceeded || got["Prep"].Kind != pipeline.KindProcessing || got["Prep"].JobARN == "" ||
					got["Fn"].LambdaTimeout != time.Minute || got["Wait"].CallbackToken != "Tok0000001" || r.Reconciled != 3 || r.OpenCallbacks != 1 {
					t.Fatalf("steps %+v, report %+v", got, r)
				}
			},
		},
		{
			name: "an execution SageMaker ended closes its stop",
			setup: func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN {
				arn := sweepARN("prod-a", 2)
				record(t, l, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: sweepT0.Add(time.Minute), StartedAt: sweepT0})
				if _, _, err := l.CreateStop(context.Background(), pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: sweepT0.Add(time.Minute)}); err != nil {
					t.Fatal(err)
				}
				sm.set(arn.String(), smtypes.PipelineExecutionStatusStopped, sweepT0, sweepT0.Add(2*time.Minute))
				return arn
			},
			now: sweepT0.Add(3 * time.Minute),
			check: func(t *testing.T, v pipeline.View, r coordinator.SweepReport) {
				if v.Execution.Status != pipeline.ExecutionStopped || len(v.Stops) != 1 || v.Stops[0].Phase != pipeline.StopClosed || v.Stops[0].LatencyMillis != 60000 {
					t.Fatalf("execution %+v stops %+v", v.Execution, v.Stops)
				}
			},
		},
		{
			name: "past its max runtime: stopped",
			setup: func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN {
				arn := sweepARN("dev-a", 3)
				record(t, l, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: sweepT0, StartedAt: sweepT0})
				sm.set(arn.String(), smtypes.PipelineExecutionStatusExecuting, sweepT0, sweepT0)
				return arn
			},
			now:       sweepT0.Add(2*time.Hour + time.Second),
			wantStops: []string{coordinator.MaxRuntimeKey},
		},
		{
			name: "within its max runtime: left alone",
			setup: func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN {
				arn := sweepARN("dev-a", 4)
				record(t, l, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: sweepT0, StartedAt: sweepT0})
				sm.set(arn.String(), smtypes.PipelineExecutionStatusExecuting, sweepT0, sweepT0)
				return arn
			},
			now: sweepT0.Add(2 * time.Hour),
		},
		stoppingCase("within the grace period: nothing", 5, 4*time.Minute, nil),
		stoppingCase("past the grace period: cleanup again", 6, 6*time.Minute, []cleaned{{"Tok0000002", false}}),
		stoppingCase("past the force deadline: forced", 7, 31*time.Minute, []cleaned{{"Tok0000002", true}}),
		{
			// Issue 11, defect 8: the event of the failed step was recorded
			// but its fail-fast stop was lost; the sweeper does it again.
			name: "a fail-fast stop the events lost is done again",
			setup: func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN {
				arn := sweepARN("ff-train", 9)
				record(t, l, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: sweepT0, StartedAt: sweepT0})
				recordStep(t, l, pipeline.StepChange{ARN: arn, StepName: "Prep", Status: pipeline.StepFailed, At: sweepT0.Add(time.Minute)})
				sm.set(arn.String(), smtypes.PipelineExecutionStatusExecuting, sweepT0, sweepT0.Add(time.Minute),
					smtypes.PipelineExecutionStep{StepName: aws.String("Prep"), StepStatus: smtypes.StepStatusFailed, StartTime: aws.Time(sweepT0), EndTime: aws.Time(sweepT0.Add(time.Minute))},
					callbackAt("Wait", "Tok0000009", smtypes.StepStatusExecuting, sweepT0))
				return arn
			},
			now:       sweepT0.Add(10 * time.Minute),
			wantStops: []string{coordinator.FailFastKey},
		},
		{
			name: "an answered token is not answered again",
			setup: func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN {
				arn := stoppingSetup(t, l, sm, 8)
				if _, err := l.RegisterToken(context.Background(), pipeline.TokenRegistration{ARN: arn, Token: "Tok0000002", StepName: "Wait"}); err != nil {
					t.Fatal(err)
				}
				if _, err := l.MarkAnswered(context.Background(), arn, "Tok0000002", pipeline.Answer{By: "consumer", Outcome: pipeline.OutcomeFailure}); err != nil {
					t.Fatal(err)
				}
				return arn
			},
			now: sweepT0.Add(31 * time.Minute),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLedgerT(t)
			sm := newFakeSageMaker()
			arn := tt.setup(t, l, sm)
			var stops []string
			var got []cleaned
			sw := coordinator.New(coordinator.Deps{Ledger: l, SageMaker: sm, Policies: pols, Clock: func() time.Time { return tt.now }})
			coordinator.ReplaceStopper(sw, stopperFunc(func(in coordinator.StopInput) (coordinator.StopResult, error) {
				stops = append(stops, in.Key)
				return coordinator.StopResult{}, nil
			}))
			coordinator.ReplaceAnswerer(sw, cleanerFunc(func(a pipeline.ExecutionARN, token string, force bool, reason string) error {
				if a != arn || reason == "" {
					t.Errorf("cleanup of %s for %s with reason %q", token, a, reason)
				}
				got = append(got, cleaned{token, force})
				return nil
			}))
			r, err := sw.Sweep(context.Background())
			if err != nil || r.Errors != 0 || r.Executions != 1 || !r.PassComplete {
				t.Fatalf("Run = %+v, %v; want one execution swept, pass complete", r, err)
			}
			if fmt.Sprint(stops) != fmt.Sprint(tt.wantStops) || fmt.Sprint(got) != fmt.Sprint(tt.wantCleaned) {
				t.Fatalf("stops %v cleaned %v, want %v and %v", stops, got, tt.wantStops, tt.wantCleaned)
			}
			if tt.check != nil {
				v, err := l.ReadExecution(context.Background(), arn)
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, v, r)
			}
		})
	}
}

// stoppingSetup records an execution that entered Stopping at sweepT0 and
// still waits on one callback step.
func stoppingSetup(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker, i int) pipeline.ExecutionARN {
	arn := sweepARN("dev-b", i)
	record(t, l, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: sweepT0, StartedAt: sweepT0.Add(-time.Minute)})
	sm.set(arn.String(), smtypes.PipelineExecutionStatusStopping, sweepT0.Add(-time.Minute), sweepT0,
		callbackAt("Wait", "Tok0000002", smtypes.StepStatusStopping, sweepT0.Add(-time.Minute)),
		smtypes.PipelineExecutionStep{StepName: aws.String("Done"), StepStatus: smtypes.StepStatusSucceeded, StartTime: aws.Time(sweepT0), EndTime: aws.Time(sweepT0),
			Metadata: &smtypes.PipelineExecutionStepMetadata{Callback: &smtypes.CallbackStepMetadata{CallbackToken: aws.String("Tok0000003")}}})
	return arn
}

func stoppingCase(name string, i int, after time.Duration, want []cleaned) sweepCase {
	return sweepCase{
		name: name,
		setup: func(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker) pipeline.ExecutionARN {
			return stoppingSetup(t, l, sm, i)
		},
		now:         sweepT0.Add(after),
		wantCleaned: want,
	}
}

func record(t *testing.T, l *ledger.Ledger, c pipeline.ExecutionChange) {
	t.Helper()
	if _, err := l.RecordExecutionStatus(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func recordStep(t *testing.T, l *ledger.Ledger, c pipeline.StepChange) {
	t.Helper()
	if _, err := l.RecordStepStatus(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// TestSweeperDrainsAThousandExecutionsInBoundedRuns checks the budget of
// each run and the continuation: repeated runs cover every execution
// exactly once per pass, whether a run ends at a page boundary (the
// execution limit) or inside a page (the call limit).
func TestSweeperDrainsAThousandExecutionsInBoundedRuns(t *testing.T) {
	const total = 1000
	l := newLedgerT(t)
	sm := newFakeSageMaker()
	seed(t, l, sm, total)
	tests := []struct {
		name         string
		limits       coordinator.SweepLimits
		wantPerRun   int
		wantRunsPass int
	}{
		// 100 a run; the tenth run ends on a full page, and the ledger
		// cannot know nothing follows, so an eleventh, empty run closes
		// the pass.
		{"execution limit", coordinator.SweepLimits{Executions: 100}, 100, 11},
		// 2 calls an execution: 75 a run, ending inside pages.
		{"call limit", coordinator.SweepLimits{Executions: 100, Calls: 150}, 75, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw := coordinator.New(coordinator.Deps{Ledger: l, SageMaker: sm, Policies: &policy.Set{}, SweepLimits: tt.limits,
				Clock: func() time.Time { return sweepT0.Add(time.Hour) }})
			for pass := 1; pass <= 2; pass++ {
				seen := map[string]int{}
				runs := 0
				var slowest time.Duration
				for {
					runs++
					if runs > 2*tt.wantRunsPass {
						t.Fatalf("pass %d not complete after %d runs", pass, runs)
					}
					started := time.Now()
					r, err := sw.Sweep(context.Background())
					slowest = max(slowest, time.Since(started))
					if err != nil || r.Errors != 0 {
						t.Fatalf("run %d: %+v, %v", runs, r, err)
					}
					described := sm.takeDescribed()
					if r.Executions > tt.wantPerRun || r.Calls > max(tt.limits.Calls, 4*tt.limits.Executions) || len(described) != r.Executions || r.Calls != 2*r.Executions {
						t.Fatalf("run %d looked at %d executions with %d calls (%d described); limits %+v", runs, r.Executions, r.Calls, len(described), tt.limits)
					}
					for _, arn := range described {
						seen[arn]++
					}
					if r.PassComplete {
						break
					}
					if r.Executions != tt.wantPerRun {
						t.Fatalf("run %d looked at %d executions, want %d", runs, r.Executions, tt.wantPerRun)
					}
				}
				if len(seen) != total || runs != tt.wantRunsPass {
					t.Fatalf("pass %d: %d executions in %d runs, want %d in %d", pass, len(seen), runs, total, tt.wantRunsPass)
				}
				var twice []string
				for arn, n := range seen {
					if n != 1 {
						twice = append(twice, arn)
					}
				}
				sort.Strings(twice)
				if len(twice) > 0 {
					t.Fatalf("pass %d swept %d executions more than once: %v", pass, len(twice), twice[:min(3, len(twice))])
				}
				t.Logf("pass %d: %d executions in %d runs of at most %d executions and %d calls; slowest run %s",
					pass, total, runs, tt.wantPerRun, 2*tt.wantPerRun, slowest.Round(time.Millisecond))
			}
		})
	}
}

// seed records n Executing executions, started a second apart, and gives
// SageMaker the same view.
func seed(t *testing.T, l *ledger.Ledger, sm *fakeSageMaker, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				arn := sweepARN("train", i)
				started := sweepT0.Add(time.Duration(i) * time.Second)
				if _, err := l.RecordExecutionStatus(context.Background(), pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: started, StartedAt: started}); err != nil {
					errs <- err
				}
				sm.set(arn.String(), smtypes.PipelineExecutionStatusExecuting, started, started)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestSweeperCursorSkipsNothingReconciledOut (issue 11, defect 6): a run
// that stops inside a page after reconciling some executions to terminal
// (out of the sparse active index) resumes right after the last one it
// did, so every execution still active is swept in the pass.
func TestSweeperCursorSkipsNothingReconciledOut(t *testing.T) {
	const total = 10
	l := newLedgerT(t)
	sm := newFakeSageMaker()
	seed(t, l, sm, total)
	// SageMaker has the first two ended: the first run takes them out of
	// the active index.
	for i := range 2 {
		started := sweepT0.Add(time.Duration(i) * time.Second)
		sm.set(sweepARN("train", i).String(), smtypes.PipelineExecutionStatusSucceeded, started, started.Add(time.Minute))
	}
	sw := coordinator.New(coordinator.Deps{Ledger: l, SageMaker: sm, Policies: &policy.Set{},
		SweepLimits: coordinator.SweepLimits{Executions: 5, Calls: 6}, Clock: func() time.Time { return sweepT0.Add(time.Hour) }})
	seen := map[string]int{}
	for runs := 1; ; runs++ {
		if runs > 2*total {
			t.Fatalf("pass not complete after %d runs", runs)
		}
		r, err := sw.Sweep(context.Background())
		if err != nil || r.Errors != 0 {
			t.Fatalf("run %d: %+v, %v", runs, r, err)
		}
		for _, arn := range sm.takeDescribed() {
			seen[arn]++
		}
		if r.PassComplete {
			break
		}
	}
	for i := range total {
		if arn := sweepARN("train", i).String(); seen[arn] != 1 {
			t.Errorf("execution %d swept %d times in the pass, want once", i, seen[arn])
		}
	}
}
