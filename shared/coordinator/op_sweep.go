package coordinator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

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

func (l SweepLimits) withDefaults() SweepLimits {
	if l.Executions <= 0 {
		l.Executions = 100
	}
	if l.Calls <= 0 {
		l.Calls = 4 * l.Executions
	}
	if l.Reserve <= 0 {
		l.Reserve = 10 * time.Second
	}
	return l
}

// Cost estimates, in SageMaker calls, of the work a run starts through
// other use cases: a stop describes then stops; an answer sends once.
const (
	callsPerExecution = 2 // DescribePipelineExecution + ListPipelineExecutionSteps
	callsPerStop      = 2
	callsPerAnswer    = 1
)

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
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
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
	*Service
	at       time.Time // when the run began
	deadline time.Time // zero: no deadline
	// sm counts the run's own SageMaker calls against its budget.
	sm *countingSageMaker
	// status records what the run reconciles; its definitions are read
	// through sm, so they count too.
	status *Service
	seen   map[string]bool
	report SweepReport
	// oldestCallback is the age of the oldest open callback seen.
	oldestCallback time.Duration
}

func (s *Service) newRun(ctx context.Context) *run {
	r := &run{Service: s, at: s.now(), seen: map[string]bool{}}
	if dl, ok := ctx.Deadline(); ok {
		r.deadline = dl.Add(-s.limits.Reserve)
	}
	r.sm = &countingSageMaker{SageMaker: s.sm, calls: &r.report.Calls}
	// Definitions live for the run: one read per execution.
	r.status = s.withDefinitions(NewDefinitions(r.sm, time.Hour, s.now))
	return r
}

// affordable reports whether the run has room for one more execution.
func (r *run) affordable() bool {
	switch {
	case r.report.Executions >= r.limits.Executions:
		return false
	case r.report.Calls+callsPerExecution > r.limits.Calls:
		return false
	case !r.deadline.IsZero() && time.Now().After(r.deadline):
		return false
	}
	return true
}

// stoppingFirst sweeps the executions Stopping past their grace period.
func (r *run) stoppingFirst(ctx context.Context) error {
	limit := max(1, r.limits.Executions/4)
	page, err := r.ledger.ListStopping(ctx, r.at, int32(limit), "")
	if err != nil {
		return fmt.Errorf("sweep stopping executions: %w", err)
	}
	// Every run reports the oldest stop still open, also when there is
	// none: the "stop open too long" alarm is on it, and the index is
	// ordered oldest first.
	var oldest time.Duration
	if len(page.Executions) > 0 {
		oldest = r.at.Sub(page.Executions[0].StoppingSince)
	}
	metrics.Default().OpenStops(ctx, len(page.Executions), oldest)
	for _, e := range page.Executions {
		if r.at.Sub(e.StoppingSince) <= r.policyFor(e.PipelineName).GracePeriod {
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
	cursor, version, err := r.ledger.SweepCursor(ctx)
	if err != nil {
		return fmt.Errorf("sweep active executions: %w", err)
	}
	r.report.Resumed = cursor != ""
	room := r.limits.Executions - r.report.Executions
	if room <= 0 {
		return nil
	}
	page, err := r.ledger.ListActive(ctx, r.at, int32(room), cursor)
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
	if err := r.ledger.SaveSweepCursor(ctx, next, version); err != nil {
		if errors.Is(err, pipeline.ErrStale) {
			// An overlapping run moved it first; what this run did is done
			// again next pass, which is harmless.
			r.log.WarnContext(ctx, "another sweeper run saved the cursor first", "error", err.Error())
			return nil
		}
		return fmt.Errorf("sweep active executions: %w", err)
	}
	return nil
}
