package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error codes of the stop API's JSON errors ({"code", "message"}).
const (
	CodeInvalid      = "invalid"      // 400: the request is wrong; do not retry it as is
	CodeTooLarge     = "too_large"    // 400: the body is over the API's limit
	CodeUnauthorized = "unauthorized" // 403: outside what stopcoord may act on, or not signed
	CodeNotFound     = "not_found"    // 404
	CodeConflict     = "conflict"     // 409: e.g. the execution already ended, or the token was answered
	CodeThrottled    = "throttled"    // 429
	CodeUnavailable  = "unavailable"  // 502: SageMaker or DynamoDB failed
	CodeInternal     = "internal"     // 500
)

// APIError is an answer other than 2xx. API Gateway's own refusals (a bad
// signature, an unknown route) carry only a message; their Code is
// derived from the status ("forbidden", "not_found", ...).
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	RequestID  string // API Gateway's apigw-requestid, for support
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("stop API answered %d %s: %s", e.StatusCode, e.Code, e.Message)
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// HTTPStatusCode lets the SDK's retryer retry 5xx answers.
func (e *APIError) HTTPStatusCode() int { return e.StatusCode }

// ErrorCode lets the SDK's retryer recognise throttling: a 429 is reported
// as TooManyRequestsException, one of the SDK's throttle codes.
func (e *APIError) ErrorCode() string {
	if e.StatusCode == http.StatusTooManyRequests {
		return "TooManyRequestsException"
	}
	return e.Code
}

// ErrorMessage is the API's message.
func (e *APIError) ErrorMessage() string { return e.Message }

// HasCode reports whether err is an APIError with the given code.
func HasCode(err error, code string) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == code
}

func newAPIError(resp *http.Response, raw []byte) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("Apigw-Requestid")}
	var body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.Code, e.Message = body.Code, body.Message
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("%.200s", raw)
	}
	if e.Code == "" {
		switch resp.StatusCode {
		case http.StatusForbidden:
			e.Code = "forbidden"
		case http.StatusNotFound:
			e.Code = CodeNotFound
		case http.StatusTooManyRequests:
			e.Code = CodeThrottled
		case http.StatusRequestEntityTooLarge:
			e.Code = CodeTooLarge
		default:
			e.Code = fmt.Sprintf("http_%d", resp.StatusCode)
		}
	}
	return e
}
