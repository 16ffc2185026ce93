package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// rateLimit stands in front of the SageMaker emulator as SageMaker's
// request rate limit: for each operation (SageMaker's limits are per API
// action) a token bucket of budget calls a second with a second's worth of
// burst, beyond which a call gets ThrottlingException and does nothing. It
// counts every call by operation and when it came.
type rateLimit struct {
	srv     *httptest.Server
	budget  int
	buckets map[string]*rate.Limiter
	mu      sync.Mutex
	target  *httputil.ReverseProxy
	byOp    map[string]int
	times   []time.Time // accepted calls
	refused int
	last    time.Time   // the last StopPipelineExecution
	lists   []time.Time // each ListPipelineExecutions, when it came
}

func newRateLimit(budget int) *rateLimit {
	l := &rateLimit{budget: budget, buckets: map[string]*rate.Limiter{}, byOp: map[string]int{}}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	return l
}

func (l *rateLimit) url() string { return l.srv.URL }
func (l *rateLimit) close()      { l.srv.Close() }

func (l *rateLimit) setTarget(target string) {
	u, _ := url.Parse(target)
	l.mu.Lock()
	l.target = httputil.NewSingleHostReverseProxy(u)
	l.mu.Unlock()
}

// reset forgets what came before the bulk stop.
func (l *rateLimit) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.byOp, l.times, l.refused, l.last, l.lists = map[string]int{}, nil, 0, time.Time{}, nil
}

func (l *rateLimit) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "SageMaker.")
	l.mu.Lock()
	target := l.target
	if target == nil {
		l.mu.Unlock()
		http.Error(w, "SageMaker is not up yet", http.StatusServiceUnavailable)
		return
	}
	bucket, ok := l.buckets[op]
	if !ok {
		bucket = rate.NewLimiter(rate.Limit(l.budget), l.budget)
		l.buckets[op] = bucket
	}
	if !bucket.Allow() {
		l.refused++
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
		return
	}
	now := time.Now()
	l.byOp[op]++
	l.times = append(l.times, now)
	switch op {
	case "StopPipelineExecution":
		l.last = now
	case "ListPipelineExecutions":
		l.lists = append(l.lists, now)
	}
	l.mu.Unlock()
	target.ServeHTTP(w, r)
}

// callStats is what the rate limit saw.
type callStats struct {
	byOp      map[string]int
	times     []time.Time
	throttled int
	lastStop  time.Time
	lists     []time.Time
}

func (l *rateLimit) snapshot() callStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	byOp := make(map[string]int, len(l.byOp))
	for k, v := range l.byOp {
		byOp[k] = v
	}
	return callStats{byOp: byOp, times: append([]time.Time(nil), l.times...), throttled: l.refused, lastStop: l.last, lists: append([]time.Time(nil), l.lists...)}
}

func (c callStats) summary() string {
	ops := make([]string, 0, len(c.byOp))
	total := 0
	for op, n := range c.byOp {
		ops = append(ops, fmt.Sprintf("%s %d", op, n))
		total += n
	}
	sort.Strings(ops)
	return fmt.Sprintf("%d (%s)", total, strings.Join(ops, ", "))
}

// peak is the most calls in any one-second window.
func (c callStats) peak() int {
	best, j := 0, 0
	for i := range c.times {
		for c.times[i].Sub(c.times[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
