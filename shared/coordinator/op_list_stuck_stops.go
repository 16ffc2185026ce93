package coordinator

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Bounds of a stuck-stops listing.
const (
	DefaultStuckStopsLimit = 20
	// MaxStuckStopsLimit keeps one page within the API's 29 s: each stop
	// listed costs a view of its execution (a few SageMaker calls).
	MaxStuckStopsLimit = 50
	MaxStuckThreshold  = 30 * 24 * time.Hour
	// stuckViewsAtOnce bounds the views read concurrently, and so the
	// SageMaker calls in flight.
	stuckViewsAtOnce = 4
)

// StuckStopsInput asks for the stops open longer than a threshold.
type StuckStopsInput struct {
	OpenLongerThan time.Duration // 0 lists every open stop
	Limit          int           // per page; 0 is DefaultStuckStopsLimit
	Cursor         string        // from the previous page
}

// StuckStop is a stop still open, with what its execution still waits for.
type StuckStop struct {
	Stop    pipeline.StopRequest
	OpenFor time.Duration
	// Execution is the current view of the stop's execution; ViewError
	// says why it could not be read instead (the stop is listed anyway).
	Execution *ExecutionView
	ViewError string
}

// StuckStopsResult is one page of stuck stops, oldest first.
type StuckStopsResult struct {
	Stops  []StuckStop
	Cursor string    // continues the listing; empty on the last page
	AsOf   time.Time // the time the threshold was measured from
}

// StuckStops lists stops open longer than a threshold, oldest first, each
// with what still blocks it: what an operator or a script checks when a
// stop seems to hang.
func (s *Service) StuckStops(ctx context.Context, in StuckStopsInput) (StuckStopsResult, error) {
	if in.OpenLongerThan < 0 || in.OpenLongerThan > MaxStuckThreshold {
		return StuckStopsResult{}, pipeline.Errorf(pipeline.EInvalid, "the threshold must be between 0 and %s", MaxStuckThreshold)
	}
	limit := in.Limit
	switch {
	case limit == 0:
		limit = DefaultStuckStopsLimit
	case limit < 0 || limit > MaxStuckStopsLimit:
		return StuckStopsResult{}, pipeline.Errorf(pipeline.EInvalid, "limit must be between 1 and %d", MaxStuckStopsLimit)
	}
	now := s.now()
	stops, next, err := s.ledger.ListOpenStops(ctx, now.Add(-in.OpenLongerThan), int32(limit), in.Cursor)
	if err != nil {
		return StuckStopsResult{}, err
	}
	out := StuckStopsResult{Stops: make([]StuckStop, 0, len(stops)), Cursor: next, AsOf: now}
	for _, stop := range stops {
		// Only executions this API may act on, as for every other route.
		if arn, err := pipeline.ParseExecutionARN(stop.ExecutionARN); err != nil || s.access.Check(arn) != nil {
			continue
		}
		out.Stops = append(out.Stops, StuckStop{Stop: stop, OpenFor: now.Sub(stop.CreatedAt)})
	}
	s.viewStuck(ctx, out.Stops)
	// A stop that closed after the index was read is not stuck.
	out.Stops = slices.DeleteFunc(out.Stops, func(stop StuckStop) bool { return stop.Stop.Phase == pipeline.StopClosed })
	return out, nil
}

// viewStuck reads each stop's execution view, a few at a time. A view that
// fails is reported on its stop, never fails the listing: a stop whose
// execution cannot be read is exactly one an operator must see.
func (s *Service) viewStuck(ctx context.Context, stops []StuckStop) {
	sem := make(chan struct{}, stuckViewsAtOnce)
	var wg sync.WaitGroup
	for i := range stops {
		wg.Add(1)
		sem <- struct{}{}
		go func(stuck *StuckStop) {
			defer func() { <-sem; wg.Done() }()
			v, err := s.ViewExecution(ctx, stuck.Stop.ExecutionARN)
			if err != nil {
				stuck.ViewError = pipeline.Message(err)
				return
			}
			for _, st := range v.Stops {
				if st.ID == stuck.Stop.ID {
					stuck.Stop = st // the strongly consistent copy (the index lags)
				}
			}
			stuck.Execution = &v
		}(&stops[i])
	}
	wg.Wait()
}
