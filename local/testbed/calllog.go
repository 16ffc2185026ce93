package testbed

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"
)

// CallLog is a recording proxy in front of the SageMaker emulator: point a
// function at URL and the log says which operations it called, and when.
type CallLog struct {
	URL   string
	mu    sync.Mutex
	calls []Call
}

// Call is one request that passed the proxy.
type Call struct {
	Op string // "StopPipelineExecution"
	At time.Time
}

// RecordSageMaker starts a recording proxy to the emulator.
func (b *Bed) RecordSageMaker() *CallLog {
	target, err := url.Parse(b.SageMakerURL)
	if err != nil {
		b.t.Fatal(err)
	}
	log := &CallLog{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "SageMaker.")
		log.mu.Lock()
		log.calls = append(log.calls, Call{Op: op, At: time.Now()})
		log.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	b.t.Cleanup(srv.Close)
	log.URL = srv.URL
	return log
}

// Calls returns the calls so far, in order.
func (l *CallLog) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Count is how many calls of the operation passed ("" counts all).
func (l *CallLog) Count(op string) int {
	n := 0
	for _, c := range l.Calls() {
		if op == "" || c.Op == op {
			n++
		}
	}
	return n
}

// MaxInWindow is the most calls that passed within any window of the
// given length: the rate a budget must bound.
func (l *CallLog) MaxInWindow(window time.Duration) int {
	calls := l.Calls()
	best, start := 0, 0
	for end := range calls {
		for calls[end].At.Sub(calls[start].At) >= window {
			start++
		}
		best = max(best, end-start+1)
	}
	return best
}
