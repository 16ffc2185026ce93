package emulator

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// rieInvokePath is where aws-lambda-rie takes invocations; the function name
// in the path must be "function".
const rieInvokePath = "/2015-03-31/functions/function/invocations"

// maxLambdaResponse bounds a function's response (Lambda's own synchronous
// payload limit is 6 MB).
const maxLambdaResponse = 6 << 20

// lambdaInvoker calls the endpoint configured for a function ARN.
type lambdaInvoker struct {
	endpoints map[string]LambdaEndpoint
	client    *http.Client

	mu   sync.Mutex
	busy map[string]chan struct{} // one in-flight call per RIE instance
}

func newLambdaInvoker(endpoints map[string]LambdaEndpoint, client *http.Client) *lambdaInvoker {
	return &lambdaInvoker{endpoints: endpoints, client: client, busy: map[string]chan struct{}{}}
}

func (l *lambdaInvoker) endpoint(arn string) (LambdaEndpoint, bool) {
	if ep, ok := l.endpoints[arn]; ok {
		return ep, true
	}
	ep, ok := l.endpoints["*"]
	return ep, ok
}

// invoke POSTs the event and returns the HTTP status and body. RIE crashes
// on a second concurrent invoke, so calls to one RIE instance are queued;
// the wait counts against the step's timeout, as a throttled function would.
func (l *lambdaInvoker) invoke(ctx context.Context, arn string, event []byte) (int, []byte, error) {
	ep, ok := l.endpoint(arn)
	if !ok {
		return 0, nil, fmt.Errorf("no Lambda endpoint configured for %s", arn)
	}
	target := ep.URL
	if ep.RIE {
		target = strings.TrimRight(ep.URL, "/") + rieInvokePath
		release, err := l.acquire(ctx, ep.URL)
		if err != nil {
			return 0, nil, err
		}
		defer release()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLambdaResponse))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, body, nil
}

func (l *lambdaInvoker) acquire(ctx context.Context, url string) (func(), error) {
	l.mu.Lock()
	ch, ok := l.busy[url]
	if !ok {
		ch = make(chan struct{}, 1)
		l.busy[url] = ch
	}
	l.mu.Unlock()
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
