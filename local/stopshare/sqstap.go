package stopshare

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

// SQSTap sits between SageMaker and SQS and notes when each callback
// message SageMaker sends is in the queue (SQS answered the send): the
// moment SageMaker's part of a stop ends and SQS's begins. Its Invoker
// wraps the callback function as the queue's poller calls it and notes
// when each message was handed to the function (Lambda's event source
// mapping invoking it): the end of SQS delivery. Both keep the FIRST time
// per token and status, so a redelivered or duplicated message does not
// move them, and a retry after a failed first delivery is stopcoord's
// time, not SQS's.
type SQSTap struct {
	srv       *httptest.Server
	mu        sync.Mutex
	sent      map[string]time.Time // token + "/" + status -> when SQS accepted it
	delivered map[string]time.Time // token + "/" + status -> when first handed to the function
}

// NewSQSTap starts a tap that forwards to SQS at target; SageMaker sends
// to URL.
func NewSQSTap(target string) (*SQSTap, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("SQS endpoint %q is not a URL (%v)", target, err)
	}
	t := &SQSTap{sent: map[string]time.Time{}, delivered: map[string]time.Time{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	t.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(rec, r)
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessage" && rec.status == http.StatusOK {
			t.noteSent(body, time.Now())
		}
	}))
	return t, nil
}

// URL is where SageMaker sends its callback messages.
func (t *SQSTap) URL() string { return t.srv.URL }

// Close stops the tap; close it after SageMaker, which sends through it.
func (t *SQSTap) Close() { t.srv.Close() }

func (t *SQSTap) noteSent(body []byte, at time.Time) {
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

// Invoker wraps the callback function's invoker as the poller calls it.
// Wrap the outermost invoker, so that what it notes is what the poller
// really handed over, after any fault that stands between the queue and
// the poller.
func (t *SQSTap) Invoker(next sqspoller.Invoker) sqspoller.Invoker {
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

// Stopping is, for each of tokens whose Stopping message was seen, when it
// was in the queue and when it was first handed to the function.
func (t *SQSTap) Stopping(tokens []string) (sent, delivered map[string]time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sent, delivered = map[string]time.Time{}, map[string]time.Time{}
	for _, tok := range tokens {
		key := tok + "/" + string(callback.StatusStopping)
		if at, ok := t.sent[key]; ok {
			sent[tok] = at
		}
		if at, ok := t.delivered[key]; ok {
			delivered[tok] = at
		}
	}
	return sent, delivered
}
