package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/lambdastep"
)

// lambdaSteps serves the Lambda steps' functions: the emulator POSTs each
// step's resolved arguments to its URL and waits for the output.
type lambdaSteps struct {
	c    *chaos
	done chan struct{} // closed at the end of the run: every call returns
	mu   sync.Mutex
	seen map[string]time.Time // execution ARN -> first invocation
}

func (l *lambdaSteps) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		ExecutionARN string `json:"executionArn"`
	}
	json.NewDecoder(r.Body).Decode(&ev)
	l.mu.Lock()
	if _, ok := l.seen[ev.ExecutionARN]; !ok {
		l.seen[ev.ExecutionARN] = time.Now()
	}
	l.mu.Unlock()
	ctx := r.Context()
	if strings.HasSuffix(r.URL.Path, "/"+lambdaFinish) {
		// A function that knows it cannot be stopped: it watches its
		// execution and wraps up once it is stopping.
		var cancel context.CancelFunc
		ctx, cancel = lambdastep.Watch(ctx, l.c.sm, ev.ExecutionARN, 500*time.Millisecond)
		defer cancel()
	}
	select {
	case <-ctx.Done():
	case <-l.done:
	case <-time.After(15 * time.Minute): // the work itself; a step never waits this long
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"score":"0.5"}`))
}

func (l *lambdaSteps) invoked(arn string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.seen[arn]
	return ok
}

// cleanupLambda is the function a callback step names in
// stopcoord_cleanup_lambda: it would cancel an external job. It fails the
// first few calls for each token, as a flaky dependency does; the broken
// one always fails.
type cleanupLambda struct {
	failures int
	broken   bool
	mu       sync.Mutex
	calls    map[string][]cleanupCall // token -> calls
}

type cleanupCall struct {
	at time.Time
	ok bool
}

func newCleanupLambda(failures int, broken bool) *cleanupLambda {
	return &cleanupLambda{failures: failures, broken: broken, calls: map[string][]cleanupCall{}}
}

func (f *cleanupLambda) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var cc callback.Context
	if err := json.Unmarshal(payload, &cc); err != nil || cc.Token == "" {
		return nil, errors.New("the cleanup Lambda got no callback context")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ok := !f.broken && len(f.calls[cc.Token]) >= f.failures
	f.calls[cc.Token] = append(f.calls[cc.Token], cleanupCall{at: time.Now(), ok: ok})
	if !ok {
		return nil, &rie.FunctionError{Type: "Unavailable", Message: "the external job's API is unavailable"}
	}
	return []byte(`{"cancelled":true}`), nil
}

func (f *cleanupLambda) callsOf(token string) []cleanupCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]cleanupCall(nil), f.calls[token]...)
}
