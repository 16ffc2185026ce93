package logging

import (
	"bytes"
	"encoding/json"
	"log"
	"log/slog"
	"testing"
)

// TestRuntimeErrorsAreLoggedAtError: aws-lambda-go prints the error a
// handler returns with log.Printf; after New it must be an ERROR line.
func TestRuntimeErrorsAreLoggedAtError(t *testing.T) {
	var buf bytes.Buffer
	prevOut, prevFlags, prevPrefix := log.Writer(), log.Flags(), log.Prefix()
	defer func() { log.SetOutput(prevOut); log.SetFlags(prevFlags); log.SetPrefix(prevPrefix) }()
	routeStandardLog(NewTo(&buf, slog.LevelInfo).Handler())

	// What aws-lambda-go's reportFailure prints.
	log.Printf("%s", `{"errorMessage":"stop arn:x: throttled","errorType":"wrapError"}`)
	log.Printf("something else")

	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2: %s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal(lines[0], &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(lines[1], &second); err != nil {
		t.Fatal(err)
	}
	if first["level"] != "ERROR" || first["message"] != "invocation failed" || first["errorMessage"] != "stop arn:x: throttled" || first["errorType"] != "wrapError" {
		t.Errorf("the runtime's error line: %v", first)
	}
	if second["level"] != "ERROR" || second["message"] != "something else" {
		t.Errorf("another standard log line: %v", second)
	}
}
