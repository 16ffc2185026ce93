package rie

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/procs"
)

// TestInvokeUnderRIE runs a real bootstrap under aws-lambda-rie and checks
// how each outcome comes back. After every failure an echo must work again:
// RIE restarts the runtime after a panic and a timeout.
func TestInvokeUnderRIE(t *testing.T) {
	fn := StartT(t, Spec{Bootstrap: BuildT(t, "./testdata/echo"), Name: "echo", Timeout: time.Second})
	cases := []struct {
		name      string
		event     string
		wantBody  string // JSON the function returns, when it succeeds
		wantType  string // FunctionError.Type, when it fails
		wantInMsg string // part of FunctionError.Message
	}{
		{name: "echo", event: `{"mode":"echo","n":7}`, wantBody: `{"mode":"echo","sleepMs":0,"n":7}`},
		{name: "handler error", event: `{"mode":"error"}`, wantType: "errorString", wantInMsg: "asked to fail"},
		// A panic is HTTP 502; the Go runtime reports the panic value's type.
		{name: "panic", event: `{"mode":"panic"}`, wantType: "string", wantInMsg: "asked to panic"},
		{name: "timeout", event: `{"mode":"sleep","sleepMs":3000}`, wantType: TimeoutErrorType, wantInMsg: "Task timed out after 1.00 seconds"},
		{name: "invalid JSON event", event: `{`, wantType: "errorString", wantInMsg: "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), procs.Scaled(time.Minute))
			defer cancel()
			body, err := fn.Invoke(ctx, []byte(tc.event))
			if tc.wantBody != "" {
				if err != nil {
					t.Fatalf("Invoke(%s) error %v, want %s\n%s", tc.event, err, tc.wantBody, fn.Output())
				}
				assertJSONEqual(t, body, tc.wantBody)
			} else {
				var ferr *FunctionError
				if !errors.As(err, &ferr) {
					t.Fatalf("Invoke(%s) = %s, %v; want a *FunctionError", tc.event, body, err)
				}
				if ferr.Type != tc.wantType {
					t.Errorf("Invoke(%s) error type %q, want %q (message %q)", tc.event, ferr.Type, tc.wantType, ferr.Message)
				}
				if !strings.Contains(ferr.Message, tc.wantInMsg) {
					t.Errorf("Invoke(%s) error message %q, want it to contain %q", tc.event, ferr.Message, tc.wantInMsg)
				}
			}
			// The function works again after whatever happened.
			body, err = fn.Invoke(ctx, []byte(`{"mode":"echo","n":1}`))
			if err != nil {
				t.Fatalf("echo after %s: %v\n%s", tc.name, err, fn.Output())
			}
			assertJSONEqual(t, body, `{"mode":"echo","sleepMs":0,"n":1}`)
		})
	}
}

// TestInvokeSerialisesConcurrentCalls sends five invocations at once; RIE
// crashes on a second concurrent one, so all five succeeding (and the
// function still answering afterwards) shows Invoke queued them.
func TestInvokeSerialisesConcurrentCalls(t *testing.T) {
	fn := StartT(t, Spec{Bootstrap: BuildT(t, "./testdata/echo"), Name: "echo"})
	ctx, cancel := context.WithTimeout(context.Background(), procs.Scaled(time.Minute))
	defer cancel()
	const n = 5
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			event := fmt.Sprintf(`{"mode":"sleep","sleepMs":50,"n":%d}`, i)
			body, err := fn.Invoke(ctx, []byte(event))
			if err != nil {
				errs[i] = err
				return
			}
			var got struct{ N int }
			if err := json.Unmarshal(body, &got); err != nil || got.N != i {
				errs[i] = fmt.Errorf("response %s to %s, want n=%d", body, event, i)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("invocation %d: %v", i, err)
		}
	}
	if t.Failed() {
		t.Fatalf("RIE output:\n%s", fn.Output())
	}
	if _, err := fn.Invoke(ctx, []byte(`{"mode":"echo"}`)); err != nil {
		t.Fatalf("RIE no longer answers after concurrent calls: %v\n%s", err, fn.Output())
	}
}

// TestInvokeClassifiesResponses covers what RIE may answer, without RIE: a
// fake server returns each status and body.
func TestInvokeClassifiesResponses(t *testing.T) {
	cases := []struct {
		name     string
		status   int
		body     string
		wantErr  bool
		wantType string // non-empty: a *FunctionError of this type
	}{
		{name: "result", status: 200, body: `{"ok":true}`},
		{name: "result with only errorMessage", status: 200, body: `{"errorMessage":"kept as data"}`},
		{name: "result that is a string", status: 200, body: `"Task done"`},
		{name: "null result", status: 200, body: `null`},
		{name: "handler error", status: 200, body: `{"errorMessage":"boom","errorType":"MyError"}`, wantErr: true, wantType: "MyError"},
		{name: "timeout", status: 200, body: "Task timed out after 2.00 seconds", wantErr: true, wantType: TimeoutErrorType},
		{name: "panic", status: 502, body: `{"errorMessage":"bad","errorType":"runtime.Error"}`, wantErr: true, wantType: "runtime.Error"},
		{name: "runtime died", status: 502, body: ``, wantErr: true, wantType: "Runtime.Unknown"},
		{name: "wrong path", status: 404, body: `404 page not found`, wantErr: true},
		{name: "emulator failure", status: 500, body: `{"errorMessage":"x","errorType":"y"}`, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != InvokePath {
					t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, InvokePath)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			fn := &Function{URL: srv.URL}
			body, err := fn.Invoke(context.Background(), []byte(`{}`))
			if string(body) != tc.body {
				t.Errorf("body %q, want %q", body, tc.body)
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("status %d body %q: error %v, want error %v", tc.status, tc.body, err, tc.wantErr)
			}
			var ferr *FunctionError
			isFn := errors.As(err, &ferr)
			if isFn != (tc.wantType != "") {
				t.Fatalf("status %d body %q: error %v (%T), want a FunctionError: %v", tc.status, tc.body, err, err, tc.wantType != "")
			}
			if isFn && ferr.Type != tc.wantType {
				t.Errorf("status %d body %q: type %q, want %q", tc.status, tc.body, ferr.Type, tc.wantType)
			}
		})
	}
}

// TestInvokeGivesUpWhileQueued: a caller whose context ends while another
// call holds the function returns without sending anything.
func TestInvokeGivesUpWhileQueued(t *testing.T) {
	release := make(chan struct{})
	calls := make(chan struct{}, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls <- struct{}{}
		<-release
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	fn := &Function{URL: srv.URL}
	first := make(chan error, 1)
	go func() {
		_, err := fn.Invoke(context.Background(), []byte(`{}`))
		first <- err
	}()
	<-calls // the first call is in the function now
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := fn.Invoke(ctx, []byte(`{}`))
		second <- err
	}()
	cancel()
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first call: %v", err)
	}
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("queued call after cancel: %v, want context.Canceled", err)
	}
	if len(calls) != 0 {
		t.Fatal("the cancelled call still reached the function")
	}
}

func assertJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("response %q is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %q: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("response %s, want %s", got, want)
	}
}
