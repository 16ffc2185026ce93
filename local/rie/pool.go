package rie

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Pool runs one function on as many aws-lambda-rie instances as there are
// invocations under way, up to a limit, the way Lambda scales a function
// out. Each instance takes one invocation at a time. An instance whose
// caller gave up in the middle of an invocation is stopped rather than
// reused: the abandoned invocation still runs in it, and RIE crashes when a
// second one arrives. (Lambda, too, discards an execution environment that
// timed out.) So is an instance whose RIE did not answer at all, say
// because it was killed. Instances start on demand, so the first call pays a cold
// start, as with Lambda.
type Pool struct {
	riePath string
	spec    Spec
	slots   chan struct{}

	mu      sync.Mutex
	idle    []*Function
	running map[*Function]bool
	stopped bool
}

// NewPool returns a pool of at most limit instances of the function (at
// least one).
func NewPool(riePath string, spec Spec, limit int) *Pool {
	return &Pool{riePath: riePath, spec: spec, slots: make(chan struct{}, max(limit, 1)), running: map[*Function]bool{}}
}

// errPoolStopped is what Invoke returns once Stop was called.
var errPoolStopped = errors.New("the function's instances are stopped")

// Invoke runs one invocation on an idle instance, or on a new one while
// fewer than the limit run; otherwise it waits for one to be free. It
// returns what (*Function).Invoke returns.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s: wait for a free instance: %w", p.spec.Name, ctx.Err())
	}
	defer func() { <-p.slots }()
	f, err := p.take(ctx)
	if err != nil {
		return nil, err
	}
	out, err := f.Invoke(ctx, payload)
	var failed *FunctionError
	if ctx.Err() != nil || (err != nil && !errors.As(err, &failed)) {
		// Abandoned mid-invocation, or RIE itself did not answer (killed,
		// crashed): a fresh instance serves the next call. A function
		// error leaves RIE ready for the next invocation.
		p.discard(f)
	} else {
		p.give(f)
	}
	return out, err
}

func (p *Pool) take(ctx context.Context) (*Function, error) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil, fmt.Errorf("invoke %s: %w", p.spec.Name, errPoolStopped)
	}
	if n := len(p.idle); n > 0 {
		f := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return f, nil
	}
	p.mu.Unlock()
	f, err := Start(ctx, p.riePath, p.spec)
	if err != nil {
		return nil, fmt.Errorf("start an instance of %s: %w", p.spec.Name, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		f.Stop()
		return nil, fmt.Errorf("invoke %s: %w", p.spec.Name, errPoolStopped)
	}
	p.running[f] = true
	return f, nil
}

func (p *Pool) give(f *Function) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return // Stop has stopped it
	}
	p.idle = append(p.idle, f)
}

func (p *Pool) discard(f *Function) {
	p.mu.Lock()
	delete(p.running, f)
	p.mu.Unlock()
	f.Stop()
}

// Instances is how many instances run now, idle or busy.
func (p *Pool) Instances() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.running)
}

// Stop stops every instance; invocations under way fail.
func (p *Pool) Stop() {
	p.mu.Lock()
	p.stopped = true
	all := make([]*Function, 0, len(p.running))
	for f := range p.running {
		all = append(all, f)
	}
	p.running, p.idle = map[*Function]bool{}, nil
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, f := range all {
		wg.Go(f.Stop)
	}
	wg.Wait()
}
