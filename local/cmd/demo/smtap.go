package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// sageMakerTap sits between the functions and SageMaker (the emulator) and
// notes when each execution's first StopPipelineExecution reached
// SageMaker: the moment the stop API's part of a stop ends and SageMaker's
// begins. (The ledger's issuedAt comes later, after the stop API has heard
// back and written it down, while SageMaker is already sending the
// Stopping messages.)
type sageMakerTap struct {
	srv    *httptest.Server
	mu     sync.Mutex
	target *httputil.ReverseProxy
	stops  map[string]time.Time // execution ARN -> its first StopPipelineExecution's arrival
}

func newSageMakerTap() *sageMakerTap {
	t := &sageMakerTap{stops: map[string]time.Time{}}
	t.srv = httptest.NewServer(http.HandlerFunc(t.serve))
	return t
}

func (t *sageMakerTap) URL() string { return t.srv.URL }
func (t *sageMakerTap) Close()      { t.srv.Close() }

// setTarget names the emulator, which starts after the functions' URL for
// it is known.
func (t *sageMakerTap) setTarget(target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.target = httputil.NewSingleHostReverseProxy(u)
	t.mu.Unlock()
	return nil
}

func (t *sageMakerTap) serve(w http.ResponseWriter, r *http.Request) {
	arrived := time.Now()
	t.mu.Lock()
	target := t.target
	t.mu.Unlock()
	if target == nil {
		http.Error(w, "SageMaker is not up yet", http.StatusServiceUnavailable)
		return
	}
	if r.Header.Get("X-Amz-Target") == "SageMaker.StopPipelineExecution" {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ PipelineExecutionArn string }
		if json.Unmarshal(body, &in) == nil && in.PipelineExecutionArn != "" {
			t.mu.Lock()
			if _, ok := t.stops[in.PipelineExecutionArn]; !ok {
				t.stops[in.PipelineExecutionArn] = arrived
			}
			t.mu.Unlock()
		}
	}
	target.ServeHTTP(w, r)
}

// stopReceived is when SageMaker got the first StopPipelineExecution of arn.
func (t *sageMakerTap) stopReceived(arn string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stops[arn]
}
