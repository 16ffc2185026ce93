package pipeline

import (
	"errors"
	"fmt"
)

// Error codes form a closed set that API clients can switch on. Only the
// HTTP edge maps them to status codes.
const (
	EInvalid      = "invalid"
	ENotFound     = "not_found"
	EConflict     = "conflict"
	EUnauthorized = "unauthorized"
	EThrottled    = "throttled"
	EUnavailable  = "unavailable" // a service we depend on failed
	EInternal     = "internal"
)

// Error is an error with a stable code and a message safe to show a user.
// Details that are not safe to show belong in a wrapping error, which is
// logged but never returned.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Code reports the code of err: "" for nil, the code of the first *Error in
// its chain, or EInternal for anything else.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// Message reports the user-facing message of err. Errors that are not an
// *Error get a fixed message so internal details never leak.
func Message(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
