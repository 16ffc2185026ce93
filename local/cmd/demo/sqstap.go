package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/local/sqspoller"
	"github.com/stopcoord/stopcoord/shared/callback"
)

// sqsTap sits between the SageMaker emulator and SQS (moto) and notes when
// each callback message SageMaker sends is in the queue: the moment
// SageMaker's part of a stop ends and SQS's begins.
type sqsTap struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent map[string]time.Time // token + "/" + status -> when SQS accepted it
	// delivered: token + "/" + status -> when the queue's poller handed the
	// message to the callback function (Lambda's event source mapping
	// invoking it): the end of SQS delivery.
	delivered map[string]time.Time
}

func newSQSTap(target string) (*sqsTap, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("SQS endpoint %q: %w", target, err)
	}
	t := &sqsTap{sent: map[string]time.Time{}, delivered: map[string]time.Time{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	t.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(rec, r)
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessage" && rec.status == http.StatusOK {
			t.note(body, time.Now())
		}
	}))
	return t, nil
}

func (t *sqsTap) URL() string { return t.srv.URL }
func (t *sqsTap) Close()      { t.srv.Close() }

func (t *sqsTap) note(body []byte, at time.Time) {
	var in struct{ MessageBody string }
	if json.Unmarshal(body, &in) != nil {
		return
	}
	m, err := callback.Parse(in.MessageBody)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.sent[m.Token+"/"+string(m.Status)]; !ok {
		t.sent[m.Token+"/"+string(m.Status)] = at
	}
}

// invoker wraps the callback function's invoker as the poller calls it and
// notes when each callback message is handed to the function.
func (t *sqsTap) invoker(next sqspoller.Invoker) sqspoller.Invoker {
	return sqspoller.InvokerFunc(func(ctx context.Context, payload []byte) ([]byte, error) {
		at := time.Now()
		var ev events.SQSEvent
		if json.Unmarshal(payload, &ev) == nil {
			t.mu.Lock()
			for _, r := range ev.Records {
				if m, err := callback.Parse(r.Body); err == nil {
					if _, ok := t.delivered[m.Token+"/"+string(m.Status)]; !ok {
						t.delivered[m.Token+"/"+string(m.Status)] = at
					}
				}
			}
			t.mu.Unlock()
		}
		return next.Invoke(ctx, payload)
	})
}

// stoppingDelivered is when the Stopping message for token reached the
// callback function.
func (t *sqsTap) stoppingDelivered(token string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.delivered[token+"/"+string(callback.StatusStopping)]
}

// stoppingSent is when the Stopping message for token was in the queue.
func (t *sqsTap) stoppingSent(token string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent[token+"/"+string(callback.StatusStopping)]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
