// Package budget keeps an SDK client within a calls-per-second budget, so a
// bulk stop of thousands of executions never trips SageMaker's throttling.
package budget

import (
	"context"
	"fmt"

	"github.com/aws/smithy-go/middleware"
	"golang.org/x/time/rate"
)

// Limit returns an SDK API option that makes every request attempt,
// retries included, wait for a token of the limiter. Add it to a client's
// APIOptions.
func Limit(l *rate.Limiter) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		// Finalize runs once per attempt, after the retryer: a retried call
		// spends from the budget again, as it does at SageMaker.
		return s.Finalize.Add(limiter{l}, middleware.After)
	}
}

type limiter struct{ l *rate.Limiter }

func (limiter) ID() string { return "stopcoordCallBudget" }

func (m limiter) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if err := m.l.Wait(ctx); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("wait for the call budget: %w", err)
	}
	return next.HandleFinalize(ctx, in)
}

// NewLimiter is the limiter of a budget of callsPerSecond (at least 1): a
// token bucket refilled at that rate that holds one second's calls. Over
// any window of T seconds a client makes at most callsPerSecond × (T + 1)
// calls, so the long-run rate is the budget; what the bucket holds lets
// calls that come together after a pause (the records of a batch, the
// answers of one stop's callback steps, a batch after the gap between two
// invocations) go at once instead of a budget's interval apart. A bucket of
// one call made every pause a loss the client never made up: a bulk stop
// ran a third over calls ÷ budget.
func NewLimiter(callsPerSecond int) *rate.Limiter {
	n := max(callsPerSecond, 1)
	return rate.NewLimiter(rate.Limit(n), n)
}

// DefaultCallsPerSecond is each function's SageMaker budget unless
// configured: it leaves most of SageMaker's per-account request rate to
// the pipelines themselves.
const DefaultCallsPerSecond = 10
