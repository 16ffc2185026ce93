// Package logging sets up structured JSON logs for the functions: slog with
// the Lambda request id and function ARN on every line.
package logging

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Stable attribute keys, so log queries work across functions.
const (
	KeyExecutionARN = "executionArn"
	KeyStepName     = "stepName"
	KeyToken        = "callbackToken"
	KeyMessageID    = "messageId"
	KeyStopID       = "stopId"
	KeyError        = "error"
)

// New returns the function's logger writing to stdout, and makes it the
// default. Use the ...Context methods so the request id is attached. The
// runtime's report of a failed invocation (printed through the standard
// log package) is logged at ERROR.
//
// lambdacontext.NewLogger writes JSON only when the function's log format
// is configured as JSON and falls back to text otherwise (under
// aws-lambda-rie, say); stopcoord's logs are always JSON, with the same
// keys Lambda uses (timestamp, level, message, requestId).
func New() *slog.Logger {
	l := NewTo(os.Stdout, levelFromEnv())
	slog.SetDefault(l)
	routeStandardLog(l.Handler())
	return l
}

// NewTo returns a JSON logger writing to w.
func NewTo(w io.Writer, level slog.Level) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level, ReplaceAttr: lambdacontext.ReplaceAttr})
	return slog.New(requestHandler{h})
}

// timeNow is the clock of records made outside slog's Logger methods.
var timeNow = time.Now

// levelFromEnv honours the level Lambda's advanced logging controls set.
func levelFromEnv() slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(os.Getenv("AWS_LAMBDA_LOG_LEVEL")))); err != nil {
		return slog.LevelInfo
	}
	return l
}

// requestHandler adds the Lambda request id and function ARN from the
// context to every record.
type requestHandler struct{ slog.Handler }

func (h requestHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
		if lc.InvokedFunctionArn != "" {
			r.AddAttrs(slog.String("functionArn", lc.InvokedFunctionArn))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return requestHandler{h.Handler.WithAttrs(attrs)}
}

func (h requestHandler) WithGroup(name string) slog.Handler {
	return requestHandler{h.Handler.WithGroup(name)}
}
