package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/stopcoord/stopcoord/shared/logging"
)

func TestLinesAreJSONWithTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	l := logging.NewTo(&buf, slog.LevelInfo).With("component", "test")
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{
		AwsRequestID:       "req-123",
		InvokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:stop-api",
	})
	l.InfoContext(ctx, "stop requested", logging.KeyExecutionARN, "arn:x")
	l.DebugContext(ctx, "not shown")

	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("not one JSON line: %q: %v", buf.String(), err)
	}
	want := map[string]any{
		"message":      "stop requested",
		"level":        "INFO",
		"requestId":    "req-123",
		"functionArn":  "arn:aws:lambda:us-east-1:123456789012:function:stop-api",
		"executionArn": "arn:x",
		"component":    "test",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, line[k], v, buf.String())
		}
	}
	if _, ok := line["timestamp"]; !ok {
		t.Errorf("no timestamp key: %s", buf.String())
	}
}
