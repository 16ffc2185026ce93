package logging

import (
	"context"
	"encoding/json"
	"log"
	"log/slog"
	"strings"
)

// routeStandardLog sends what the standard log package prints to h at
// ERROR. In a function that is the runtime's own report of an invocation
// that failed: aws-lambda-go prints the error it returns to Lambda (a
// handler's error, or a panic with its stack) with log.Printf, which
// slog.SetDefault would otherwise log at INFO, where no error alarm or
// query looks. stopcoord's own code logs through slog only.
func routeStandardLog(h slog.Handler) {
	log.SetFlags(0)
	log.SetPrefix("")
	log.SetOutput(runtimeErrorWriter{h})
}

// runtimeErrorWriter logs each line at ERROR, reading the runtime's error
// document into attributes when the line is one.
type runtimeErrorWriter struct{ h slog.Handler }

func (w runtimeErrorWriter) Write(p []byte) (int, error) {
	ctx := context.Background()
	if !w.h.Enabled(ctx, slog.LevelError) {
		return len(p), nil
	}
	line := strings.TrimSuffix(string(p), "\n")
	var doc struct {
		Message    *string         `json:"errorMessage"`
		Type       string          `json:"errorType"`
		StackTrace json.RawMessage `json:"stackTrace"`
	}
	var r slog.Record
	if json.Unmarshal([]byte(line), &doc) == nil && doc.Message != nil {
		r = slog.NewRecord(timeNow(), slog.LevelError, "invocation failed", 0)
		r.AddAttrs(slog.String("errorType", doc.Type), slog.String("errorMessage", *doc.Message))
		if len(doc.StackTrace) > 0 {
			r.AddAttrs(slog.Any("stackTrace", doc.StackTrace))
		}
	} else {
		r = slog.NewRecord(timeNow(), slog.LevelError, line, 0)
	}
	return len(p), w.h.Handle(ctx, r)
}
