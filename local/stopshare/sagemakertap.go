package stopshare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// SageMakerTap sits between stopcoord's functions and SageMaker and notes,
// per execution, when the first StopPipelineExecution that SageMaker
// accepted had reached it: the moment the stop API's part of a stop ends
// and SageMaker's begins. (The ledger's issuedAt comes later, after the
// stop API has heard back and written it down, while SageMaker is already
// sending the Stopping messages.) A call SageMaker refused (throttled, a
// 5xx) does not count: the retry after it is stopcoord's time.
type SageMakerTap struct {
	srv    *httptest.Server
	mu     sync.Mutex
	target http.Handler
	stops  map[string]time.Time // execution ARN -> its first accepted StopPipelineExecution's arrival
}

// NewSageMakerTap starts a tap with a URL of its own; SetTarget names
// SageMaker once it runs.
func NewSageMakerTap() *SageMakerTap {
	t := &SageMakerTap{stops: map[string]time.Time{}}
	t.srv = httptest.NewServer(t.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.mu.Lock()
		target := t.target
		t.mu.Unlock()
		if target == nil {
			http.Error(w, "SageMaker is not up yet", http.StatusServiceUnavailable)
			return
		}
		target.ServeHTTP(w, r)
	})))
	return t
}

// NewSageMakerTapHandler makes a tap with no server of its own, for a
// caller that already stands in front of SageMaker: serve Wrap(next).
func NewSageMakerTapHandler() *SageMakerTap {
	return &SageMakerTap{stops: map[string]time.Time{}}
}

// URL is the tap's own server; empty for a tap made with
// NewSageMakerTapHandler.
func (t *SageMakerTap) URL() string {
	if t.srv == nil {
		return ""
	}
	return t.srv.URL
}

// Close stops the tap's own server, if it has one.
func (t *SageMakerTap) Close() {
	if t.srv != nil {
		t.srv.Close()
	}
}

// SetTarget names SageMaker (the emulator), which starts after the
// functions' URL for it is known.
func (t *SageMakerTap) SetTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("SageMaker endpoint %q: %w", target, err)
	}
	t.mu.Lock()
	t.target = httputil.NewSingleHostReverseProxy(u)
	t.mu.Unlock()
	return nil
}

// Wrap notes the stops that pass through to next.
func (t *SageMakerTap) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		if r.Header.Get("X-Amz-Target") != "SageMaker.StopPipelineExecution" {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		var in struct{ PipelineExecutionArn string }
		if rec.status != http.StatusOK || json.Unmarshal(body, &in) != nil || in.PipelineExecutionArn == "" {
			return
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		if at, ok := t.stops[in.PipelineExecutionArn]; !ok || arrived.Before(at) {
			t.stops[in.PipelineExecutionArn] = arrived
		}
	})
}

// StopReceived is when the first StopPipelineExecution of arn that
// SageMaker accepted reached it; zero if none did.
func (t *SageMakerTap) StopReceived(arn string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stops[arn]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
