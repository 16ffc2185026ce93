package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxResponse bounds what Invoke reads of a response: Lambda's own limit for
// a synchronous response payload is 6 MB.
const maxResponse = 6 << 20

// timeoutPrefix starts the plain-text body RIE returns, with HTTP 200, when
// it killed a function that ran past its timeout.
const timeoutPrefix = "Task timed out after"

// TimeoutErrorType is the FunctionError.Type of a function that ran past its
// timeout; it is the error type Lambda itself reports (Sandbox.Timedout).
const TimeoutErrorType = "Sandbox.Timedout"

// FunctionError is a failed invocation: the handler returned an error, panicked
// or ran past its timeout. The invocation itself reached the function, so
// retrying is the caller's decision, as it is with Lambda.
type FunctionError struct {
	Type    string // errorType from the runtime, or TimeoutErrorType
	Message string // errorMessage, or RIE's timeout text
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function failed with %s: %s", e.Type, e.Message)
}

// errorDocument is the body the runtime sends for a failed invocation. Both
// fields are pointers so that a successful result that happens to have one of
// the keys is not taken for an error.
type errorDocument struct {
	ErrorMessage *string `json:"errorMessage"`
	ErrorType    *string `json:"errorType"`
}

// Invoke sends payload to the function and returns its response. A handler
// error, a panic (RIE answers 502 and restarts the runtime on the next call)
// and a timeout come back as a *FunctionError, together with the raw body.
// RIE answers all three without the X-Amz-Function-Error header Lambda sets,
// so the body is what tells them apart from a result.
//
// Calls to one Function are serialised, because RIE crashes when a second
// invocation arrives while one runs. A caller that gives up (ctx done) while
// the function still runs leaves RIE busy until the function ends or times
// out; the next call may then fail.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// The wait for the lock may have outlived the caller.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.URL, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL+InvokePath, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.URL, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, fmt.Errorf("read response of %s: %w", f.URL, err)
	}
	if ferr := functionError(resp.StatusCode, body); ferr != nil {
		return body, ferr
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("invoke %s: status %d: %s", f.URL, resp.StatusCode, bytes.TrimSpace(body))
	}
	return body, nil
}

// functionError recognises the failures RIE reports: the runtime's error
// document (status 200 for a returned error, 502 for a panic) and the plain
// timeout text. It returns nil for anything else.
func functionError(status int, body []byte) error {
	trimmed := bytes.TrimSpace(body)
	if status == http.StatusOK && bytes.HasPrefix(trimmed, []byte(timeoutPrefix)) {
		return &FunctionError{Type: TimeoutErrorType, Message: string(trimmed)}
	}
	if status != http.StatusOK && status != http.StatusBadGateway {
		return nil
	}
	var doc errorDocument
	if json.Unmarshal(trimmed, &doc) == nil && doc.ErrorMessage != nil && doc.ErrorType != nil {
		return &FunctionError{Type: *doc.ErrorType, Message: *doc.ErrorMessage}
	}
	if status == http.StatusBadGateway {
		// The runtime died without a document (killed, exited): still the
		// function's failure, not the emulator's.
		msg := strings.TrimSpace(string(trimmed))
		if msg == "" {
			msg = "runtime exited without a response"
		}
		return &FunctionError{Type: "Runtime.Unknown", Message: msg}
	}
	return nil
}
