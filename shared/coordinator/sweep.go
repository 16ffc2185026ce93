package coordinator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
)

// StoppingCleaner runs the cleanup of a callback token again and answers
// it (force=false), or answers it with a failure at once, skipping cleanup
// and recording why (force=true). The callback consumer's use case
// (*Callbacks) implements it.
type StoppingCleaner interface {
	CleanupAndAnswer(ctx context.Context, arn pipeline.ExecutionARN, token string, force bool, reason string) error
}

// SweepLedger is what the sweeper needs of the ledger; *ledger.Ledger
// satisfies it.
type SweepLedger interface {
	StatusLedger
	ListActive(ctx context.Context, cutoff time.Time, limit int32, cursor string) (pipeline.ExecutionPage, error)
	ListStopping(ctx context.Context, cutoff time.Time, limit int32, cursor string) (pipeline.ExecutionPage, error)
	SweepCursor(ctx context.Context) (string, int64, error)
	SaveSweepCursor(ctx context.Context, cursor string, readVersion int64) error
}

// SweepSageMaker is every SageMaker call the sweeper makes itself;
// *sagemaker.Client satisfies it.
type SweepSageMaker interface {
	ExecutionDescriber
	PipelineDescriber
	sagemaker.ListPipelineExecutionStepsAPIClient
}

// Policies gives each pipeline its policy; *policy.Set satisfies it.
type Policies interface {
	For(pipelineName string) policy.Policy
}

// SweepLimits bound one sweeper run, so a large backlog is drained over
// several scheduled runs instead of overrunning one.
type SweepLimits struct {
	// Executions is the most executions one run looks at. Default 100.
	Executions int
	// Calls is the most SageMaker calls one run makes, counting the
	// sweeper's own and an estimate for the stops and answers it starts.
	// Default 4 per execution.
	Calls int
	// Reserve is the time left before the invocation's deadline at which
	// the run starts no more work. Default 10 s.
	Reserve time.Duration
}

// SweeperDeps are the sweeper's collaborators.
type SweeperDeps struct {
	Ledger    SweepLedger
	SageMaker SweepSageMaker
	Stopper   ExecutionStopper
	Cleaner   StoppingCleaner
	Policies  Policies
	Limits    SweepLimits
	// Observer hears of the stops the sweeper's reconciliation closes.
	Observer StopObserver
	Clock    func() time.Time
	Logger   *slog.Logger
}

// Sweeper finds what events alone would leave wrong or hanging: it
// reconciles every non-terminal execution in the ledger with SageMaker,
// stops executions past their maximum runtime, and for executions
// Stopping past their grace period runs the cleanup of their open
// callbacks again, then answers them with a failure after the force
// deadline.
type Sweeper struct {
	d SweeperDeps
}

// Cost estimates, in SageMaker calls, of the work a run starts through
// other use cases: a stop describes then stops; an answer sends once.
const (
	callsPerExecution = 2 // DescribePipelineExecution + ListPipelineExecutionSteps
	callsPerStop      = 2
	callsPerAnswer    = 1
)

// NewSweeper returns the sweeper use case.
func NewSweeper(d SweeperDeps) *Sweeper {
	if d.Limits.Executions <= 0 {
		d.Limits.Executions = 100
	}
	if d.Limits.Calls <= 0 {
		d.Limits.Calls = 4 * d.Limits.Executions
	}
	if d.Limits.Reserve <= 0 {
		d.Limits.Reserve = 10 * time.Second
	}
	if d.Clock == nil {
		d.Clock = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Sweeper{d: d}
}

// SweepReport says what one run did.
type SweepReport struct {
	Executions int `json:"executions"` // executions looked at
	Calls      int `json:"calls"`      // SageMaker calls, own and estimated
	Reconciled int `json:"reconciled"` // ledger writes that brought a status the ledger lacked
	Stopped    int `json:"stopped"`    // executions stopped for their max runtime
	Cleaned    int `json:"cleaned"`    // tokens whose cleanup was run again
	Forced     int `json:"forced"`     // tokens answered at the force deadline
	Errors     int `json:"errors"`     // executions whose sweep failed; retried next pass
	// OpenCallbacks counts the callback steps still waiting for an answer
	// among the executions looked at.
	OpenCallbacks int `json:"openCallbacks"`
	// PassComplete is true when this run reached the end of the active
	// executions: the next run starts a new pass.
	PassComplete bool `json:"passComplete"`
	// Resumed is true when this run continued a pass an earlier run began.
	Resumed bool `json:"resumed"`
}

// Run does one bounded pass step. First the executions Stopping past
// their grace period (at most a quarter of the run, so they never wait
// behind a backlog), then the active executions from where the last run
// stopped. The continuation is saved in the ledger; when the end is
// reached it is reset. Failures of single executions are logged and
// counted, not returned: one bad execution must not stall the sweep.
func (s *Sweeper) Run(ctx context.Context) (SweepReport, error) {
	r := s.newRun(ctx)
	if err := r.stoppingFirst(ctx); err != nil {
		return r.report, err
	}
	err := r.activePass(ctx)
	metrics.Default().OpenCallbacks(ctx, r.report.OpenCallbacks, r.oldestCallback)
	return r.report, err
}

// run is the state of one invocation.
type run struct {
	*Sweeper
	now      time.Time
	deadline time.Time // zero: no deadline
	sm       *countingSageMaker
	status   *Status
	seen     map[string]bool
	report   SweepReport
	// oldestCallback is the age of the oldest open callback seen.
	oldestCallback time.Duration
}

func (s *Sweeper) newRun(ctx context.Context) *run {
	r := &run{Sweeper: s, now: s.d.Clock(), seen: map[string]bool{}}
	if dl, ok := ctx.Deadline(); ok {
		r.deadline = dl.Add(-s.d.Limits.Reserve)
	}
	r.sm = &countingSageMaker{SweepSageMaker: s.d.SageMaker, calls: &r.report.Calls}
	// Definitions live for the run: one DescribePipeline per pipeline.
	r.status = NewStatus(StatusDeps{Ledger: s.d.Ledger, Definitions: NewDefinitions(r.sm, time.Hour, s.d.Clock), Stopper: s.d.Stopper, Policy: failFastOf{s.d.Policies}, Observer: s.d.Observer, Clock: s.d.Clock})
	return r
}

// affordable reports whether the run has room for one more execution.
func (r *run) affordable() bool {
	switch {
	case r.report.Executions >= r.d.Limits.Executions:
		return false
	case r.report.Calls+callsPerExecution > r.d.Limits.Calls:
		return false
	case !r.deadline.IsZero() && time.Now().After(r.deadline):
		return false
	}
	return true
}

// stoppingFirst sweeps the executions Stopping past their grace period.
func (r *run) stoppingFirst(ctx context.Context) error {
	limit := max(1, r.d.Limits.Executions/4)
	page, err := r.d.Ledger.ListStopping(ctx, r.now, int32(limit), "")
	if err != nil {
		return fmt.Errorf("sweep stopping executions: %w", err)
	}
	// Every run reports the oldest stop still open, also when there is
	// none: the "stop open too long" alarm is on it, and the index is
	// ordered oldest first.
	var oldest time.Duration
	if len(page.Executions) > 0 {
		oldest = r.now.Sub(page.Executions[0].StoppingSince)
	}
	metrics.Default().OpenStops(ctx, len(page.Executions), oldest)
	for _, e := range page.Executions {
		if r.now.Sub(e.StoppingSince) <= r.d.Policies.For(e.PipelineName).GracePeriod {
			continue // within its grace period: the active pass reconciles it
		}
		if !r.affordable() {
			return nil
		}
		r.sweepOne(ctx, e)
		r.seen[e.ExecutionARN] = true
	}
	return nil
}

// activePass sweeps active executions from the saved continuation and
// saves where it stopped.
func (r *run) activePass(ctx context.Context) error {
	cursor, version, err := r.d.Ledger.SweepCursor(ctx)
	if err != nil {
		return fmt.Errorf("sweep active executions: %w", err)
	}
	r.report.Resumed = cursor != ""
	room := r.d.Limits.Executions - r.report.Executions
	if room <= 0 {
		return nil
	}
	page, err := r.d.Ledger.ListActive(ctx, r.now, int32(room), cursor)
	if err != nil {
		return fmt.Errorf("sweep active executions: %w", err)
	}
	done := 0
	for _, e := range page.Executions {
		if !r.affordable() {
			break
		}
		if !r.seen[e.ExecutionARN] {
			r.sweepOne(ctx, e)
		}
		done++
	}
	next := page.Cursor
	if done < len(page.Executions) {
		// The budget ran out within the page: continue right after the last
		// execution done. (Listing again to find that place would skip the
		// executions this run reconciled out of the sparse index.)
		next = cursor
		if done > 0 {
			next = page.After[done-1]
		}
	}
	r.report.PassComplete = next == "" && done == len(page.Executions)
	if next == cursor {
		return nil
	}
	if err := r.d.Ledger.SaveSweepCursor(ctx, next, version); err != nil {
		if errors.Is(err, pipeline.ErrStale) {
			// An overlapping run moved it first; what this run did is done
			// again next pass, which is harmless.
			r.d.Logger.WarnContext(ctx, "another sweeper run saved the cursor first", "error", err.Error())
			return nil
		}
		return fmt.Errorf("sweep active executions: %w", err)
	}
	return nil
}

// failFastOf adapts the policies to the status use case's port.
type failFastOf struct{ p Policies }

func (f failFastOf) FailFast(pipelineName string) bool {
	return f.p != nil && f.p.For(pipelineName).FailFast
}
