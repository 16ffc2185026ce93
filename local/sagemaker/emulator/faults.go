package emulator

import (
	"context"
	"math/rand"
	"sync"
	"time"
)

// faultInjector decides, per request, whether to answer with an injected
// error. Its random source is seeded so a test sees the same sequence of
// faults on every run (given the same sequence of requests).
type faultInjector struct {
	faults map[string]Fault
	mu     sync.Mutex
	rng    *rand.Rand
}

func newFaultInjector(faults map[string]Fault, seed int64) *faultInjector {
	return &faultInjector{faults: faults, rng: rand.New(rand.NewSource(seed))}
}

func (f *faultInjector) lookup(op string) (Fault, bool) {
	if fault, ok := f.faults[op]; ok {
		return fault, true
	}
	fault, ok := f.faults["*"]
	return fault, ok
}

// inject waits out the latency and returns the injected error, if any. A
// request that gets a fault has no effect, as with a real throttled call.
func (f *faultInjector) inject(ctx context.Context, op string) error {
	fault, ok := f.lookup(op)
	if !ok {
		return nil
	}
	if fault.Latency > 0 {
		t := time.NewTimer(fault.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	if fault.ThrottleRate == 0 && fault.ServerErrorRate == 0 {
		return nil
	}
	f.mu.Lock()
	p := f.rng.Float64()
	f.mu.Unlock()
	switch {
	case p < fault.ThrottleRate:
		return errThrottling()
	case p < fault.ThrottleRate+fault.ServerErrorRate:
		return errInternal()
	}
	return nil
}
