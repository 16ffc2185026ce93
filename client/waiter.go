package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go/waiter"
)

// StopGetter reads a stop; *Client satisfies it.
type StopGetter interface {
	GetStop(ctx context.Context, in *GetStopInput) (*GetStopOutput, error)
}

var _ StopGetter = (*Client)(nil)

// StopWaiterOptions shape a StopWaiter, as the SDK's waiter options do.
type StopWaiterOptions struct {
	// MinDelay and MaxDelay bound the jittered exponential delay between
	// polls (smithy-go's waiter.ComputeDelay). Defaults 1 s and 15 s: a stop
	// takes seconds to minutes.
	MinDelay, MaxDelay time.Duration
	// OnPoll sees every answer, for a progress line.
	OnPoll func(*GetStopOutput)
	// Retryable decides after each poll whether to poll again; an error
	// ends the wait with it. Default: DefaultStopRetryable.
	Retryable func(ctx context.Context, in *GetStopInput, out *GetStopOutput, err error) (bool, error)
}

// StopWaiter waits until a stop's execution has ended.
type StopWaiter struct {
	client  StopGetter
	options StopWaiterOptions
}

// NewStopWaiter returns a waiter polling GET /stops/{id} through client.
func NewStopWaiter(client StopGetter, optFns ...func(*StopWaiterOptions)) *StopWaiter {
	o := StopWaiterOptions{MinDelay: time.Second, MaxDelay: 15 * time.Second, Retryable: DefaultStopRetryable}
	for _, fn := range optFns {
		fn(&o)
	}
	return &StopWaiter{client: client, options: o}
}

// NotStoppedError says the execution ended, but not as Stopped: a Lambda
// step's timeout turned the stop into Failed, or it finished first.
type NotStoppedError struct {
	StopID  string
	Outcome string // Failed, Succeeded
}

func (e *NotStoppedError) Error() string {
	return fmt.Sprintf("stop %s: the execution ended %s, not Stopped", e.StopID, e.Outcome)
}

// Outcome is how the stop's execution ended, or "" while it runs: the
// closed stop's outcome, or the execution's terminal status when the
// ledger has not closed the stop yet.
func (o *GetStopOutput) Outcome() string {
	switch {
	case o.Stop.Closed() && o.Stop.Outcome != "":
		return o.Stop.Outcome
	case o.Execution.Terminal:
		return o.Execution.Status
	}
	return ""
}

// DefaultStopRetryable polls until the execution has ended: done when it
// is Stopped, a *NotStoppedError when it ended otherwise, and any error
// reading the stop ends the wait (the client has retried what it could).
func DefaultStopRetryable(_ context.Context, in *GetStopInput, out *GetStopOutput, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	switch out.Outcome() {
	case "":
		return true, nil
	case StatusStopped:
		return false, nil
	default:
		return false, &NotStoppedError{StopID: in.StopID, Outcome: out.Outcome()}
	}
}

// ErrWaitTimeout is returned when maxWaitDur passes first.
var ErrWaitTimeout = errors.New("exceeded the maximum wait time for the stop")

// Wait waits until the stop's execution is Stopped.
func (w *StopWaiter) Wait(ctx context.Context, in *GetStopInput, maxWaitDur time.Duration, optFns ...func(*StopWaiterOptions)) error {
	_, err := w.WaitForOutput(ctx, in, maxWaitDur, optFns...)
	return err
}

// WaitForOutput waits as Wait does and returns the last answer, also with
// a *NotStoppedError, so the caller can show how the execution ended.
func (w *StopWaiter) WaitForOutput(ctx context.Context, in *GetStopInput, maxWaitDur time.Duration, optFns ...func(*StopWaiterOptions)) (*GetStopOutput, error) {
	if maxWaitDur <= 0 {
		return nil, errors.New("maximum wait time for the stop must be greater than zero")
	}
	o := w.options
	for _, fn := range optFns {
		fn(&o)
	}
	if o.MinDelay <= 0 || o.MaxDelay < o.MinDelay {
		return nil, fmt.Errorf("stop waiter: want 0 < MinDelay (%s) <= MaxDelay (%s)", o.MinDelay, o.MaxDelay)
	}
	if o.Retryable == nil {
		o.Retryable = DefaultStopRetryable
	}
	ctx, cancel := context.WithTimeout(ctx, maxWaitDur)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var last *GetStopOutput
	for attempt := int64(1); ; attempt++ {
		out, err := w.client.GetStop(ctx, in)
		if err == nil {
			last = out
			if o.OnPoll != nil {
				o.OnPoll(out)
			}
		} else if ctx.Err() != nil {
			return last, waitEnded(ctx, in, err)
		}
		retry, err := o.Retryable(ctx, in, out, err)
		if err != nil || !retry {
			return last, err
		}
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return last, fmt.Errorf("stop %s: %w", in.StopID, ErrWaitTimeout)
		}
		delay, err := waiter.ComputeDelay(attempt, o.MinDelay, o.MaxDelay, remaining)
		if err != nil {
			return last, fmt.Errorf("stop %s: compute the next delay: %w", in.StopID, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return last, waitEnded(ctx, in, ctx.Err())
		case <-t.C:
		}
	}
}

func waitEnded(ctx context.Context, in *GetStopInput, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("stop %s: %w", in.StopID, ErrWaitTimeout)
	}
	return fmt.Errorf("stop %s: %w", in.StopID, err)
}
