package emulator

import (
	"fmt"
	"net/http"
)

// Error codes as the real service puts them in __type and X-Amzn-ErrorType.
// The first four are modeled in the SDK (typed errors); the rest reach
// callers as smithy.GenericAPIError with this code.
const (
	codeResourceNotFound      = "ResourceNotFound"
	codeConflict              = "ConflictException"
	codeResourceLimitExceeded = "ResourceLimitExceeded"
	codeValidation            = "ValidationException"
	codeThrottling            = "ThrottlingException"
	codeSerialization         = "SerializationException"
	codeUnknownOperation      = "UnknownOperationException"
	codeInternalFailure       = "InternalFailure"
	codeServiceUnavailable    = "ServiceUnavailable"
)

// apiError is an error the service returns to the caller: a stable code, a
// message that is safe to show, and the HTTP status it travels with.
type apiError struct {
	Code    string
	Message string
	Status  int
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func newAPIError(status int, code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

func errNotFound(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, codeResourceNotFound, format, args...)
}

func errConflict(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, codeConflict, format, args...)
}

func errLimit(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, codeResourceLimitExceeded, format, args...)
}

func errValidation(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, codeValidation, format, args...)
}

func errSerialization(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, codeSerialization, format, args...)
}

func errThrottling() *apiError {
	return newAPIError(http.StatusBadRequest, codeThrottling, "Rate exceeded")
}

func errInternal() *apiError {
	return newAPIError(http.StatusInternalServerError, codeInternalFailure,
		"The request processing has failed because of an unknown error, exception or failure.")
}

func errUnavailable() *apiError {
	return newAPIError(http.StatusServiceUnavailable, codeServiceUnavailable, "The emulator is shutting down.")
}
