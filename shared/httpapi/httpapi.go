// Package httpapi is the HTTP edge of the API Gateway (payload 2.0)
// functions: strict, size-capped JSON request bodies, JSON responses, and
// the one place where coded errors become HTTP statuses.
package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// ErrorBody is every error response: a stable code and a human message.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes only the edge produces, beside the pipeline codes.
const (
	CodeTooLarge = "too_large"
)

var statusForCode = map[string]int{
	pipeline.EInvalid:      http.StatusBadRequest,
	CodeTooLarge:           http.StatusBadRequest, // the API promises 400 for every bad body
	pipeline.EUnauthorized: http.StatusForbidden,
	pipeline.ENotFound:     http.StatusNotFound,
	pipeline.EConflict:     http.StatusConflict,
	pipeline.EThrottled:    http.StatusTooManyRequests,
	pipeline.EUnavailable:  http.StatusBadGateway,
	pipeline.EInternal:     http.StatusInternalServerError,
}

// StatusFor maps an error code to its HTTP status; unknown codes are 500.
func StatusFor(code string) int {
	if s, ok := statusForCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// JSON builds a response with v as its JSON body.
func JSON(status int, v any) events.APIGatewayV2HTTPResponse {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"code":"internal","message":"internal error"}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(body),
	}
}

// Error turns err into a JSON error response. Coded errors show their code
// and message; anything else is logged in full and answered with a fixed
// internal message, so details never leak.
func Error(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	code := pipeline.Code(err)
	if code == pipeline.EInternal {
		slog.ErrorContext(ctx, "request failed", logging.KeyError, err.Error())
	} else {
		slog.InfoContext(ctx, "request rejected", "code", code, logging.KeyError, err.Error())
	}
	return JSON(StatusFor(code), ErrorBody{Code: code, Message: pipeline.Message(err)})
}

// Decode reads a request's JSON body into v strictly: at most maxBytes
// (after base64 decoding), no unknown fields, exactly one JSON value.
func Decode(req events.APIGatewayV2HTTPRequest, maxBytes int, v any) error {
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(raw)) > maxBytes+3 {
			return tooLarge(maxBytes)
		}
		decoded, err := base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return pipeline.Errorf(pipeline.EInvalid, "body is marked base64 but is not")
		}
		raw = decoded
	}
	if len(raw) > maxBytes {
		return tooLarge(maxBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return pipeline.Errorf(pipeline.EInvalid, "request body is empty; want a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return pipeline.Errorf(pipeline.EInvalid, "request body: %s", describe(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return pipeline.Errorf(pipeline.EInvalid, "request body has more than one JSON value")
	}
	return nil
}

func tooLarge(maxBytes int) error {
	return &pipeline.Error{Code: CodeTooLarge, Message: fmt.Sprintf("request body is over %d bytes", maxBytes)}
}

// describe turns a json error into a message that names the problem
// without echoing Go types.
func describe(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Sprintf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be a %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end"
	}
	// encoding/json reports unknown fields as `json: unknown field "x"`.
	return trimJSONPrefix(err.Error())
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "list"
	case "bool":
		return "boolean"
	}
	return "number"
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
