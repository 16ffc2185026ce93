package rie

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/procs"
)

func newPoolT(t *testing.T, limit int, timeout time.Duration) *Pool {
	t.Helper()
	path, err := Find()
	if err != nil {
		procs.Missing(t, err.Error())
	}
	p := NewPool(path, Spec{Bootstrap: BuildT(t, "./testdata/echo"), Name: "echo", Timeout: timeout}, limit)
	t.Cleanup(p.Stop)
	return p
}

// TestPoolRunsConcurrentCallsOnSeparateInstances: one RIE instance crashes
// on a second concurrent invocation, so eight calls at once all answering
// shows the pool gave each its own instance, never more than the limit.
func TestPoolRunsConcurrentCallsOnSeparateInstances(t *testing.T) {
	const limit, calls = 3, 8
	p := newPoolT(t, limit, 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), procs.Scaled(2*time.Minute))
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, calls)
	var mu sync.Mutex
	peak := 0
	for i := range calls {
		wg.Go(func() {
			out, err := p.Invoke(ctx, fmt.Appendf(nil, `{"mode":"sleep","sleepMs":100,"n":%d}`, i))
			if err == nil && string(out) != fmt.Sprintf(`{"mode":"sleep","sleepMs":100,"n":%d}`, i) {
				err = fmt.Errorf("got %s", out)
			}
			errs[i] = err
			mu.Lock()
			peak = max(peak, p.Instances())
			mu.Unlock()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if peak < 1 || peak > limit {
		t.Fatalf("%d instances ran, want 1 to %d", peak, limit)
	}
}

// TestPoolReplacesAnInstanceItsCallerAbandoned: the caller gives up while
// the function still sleeps; the next call gets a fresh instance and
// succeeds, where the abandoned instance would still be busy.
func TestPoolReplacesAnInstanceItsCallerAbandoned(t *testing.T) {
	p := newPoolT(t, 1, 30*time.Second)
	warm, cancelWarm := context.WithTimeout(context.Background(), procs.Scaled(time.Minute))
	defer cancelWarm()
	if _, err := p.Invoke(warm, []byte(`{"mode":"echo"}`)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := p.Invoke(short, []byte(`{"mode":"sleep","sleepMs":20000}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned call: %v, want the caller's deadline", err)
	}
	if n := p.Instances(); n != 0 {
		t.Fatalf("%d instances after the abandoned call, want it discarded", n)
	}
	out, err := p.Invoke(warm, []byte(`{"mode":"echo","n":2}`))
	if err != nil || string(out) != `{"mode":"echo","sleepMs":0,"n":2}` {
		t.Fatalf("call after the abandoned one: %s, %v", out, err)
	}
}

func TestPoolRefusesCallsOnceStopped(t *testing.T) {
	p := newPoolT(t, 2, 30*time.Second)
	p.Stop()
	if _, err := p.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, errPoolStopped) {
		t.Fatalf("Invoke after Stop: %v", err)
	}
}

// TestPoolReplacesAKilledInstance: the call that meets a killed RIE fails,
// as an invocation in a crashed sandbox does, and the next one gets a
// fresh instance.
func TestPoolReplacesAKilledInstance(t *testing.T) {
	p := newPoolT(t, 1, 30*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), procs.Scaled(time.Minute))
	defer cancel()
	if _, err := p.Invoke(ctx, []byte(`{"mode":"echo"}`)); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	victim := p.idle[0]
	p.mu.Unlock()
	if err := syscall.Kill(-victim.proc.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.proc.Done()
	if _, err := p.Invoke(ctx, []byte(`{"mode":"echo"}`)); err == nil {
		t.Fatal("a call to the killed instance succeeded")
	}
	out, err := p.Invoke(ctx, []byte(`{"mode":"echo","n":3}`))
	if err != nil || string(out) != `{"mode":"echo","sleepMs":0,"n":3}` {
		t.Fatalf("call after the kill: %s, %v", out, err)
	}
}
