package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/local/procs"
)

// TestCommandSharesOneServer runs a command under the wrapper: the command
// sees the endpoint and can use it, its exit code comes back, and the
// server is gone once the command has ended. (One JVM start for all of
// it: on a busy machine each takes long.)
func TestCommandSharesOneServer(t *testing.T) {
	if _, _, err := dynamodblocal.Tools(); err != nil {
		procs.Missing(t, err.Error())
	}
	listTables := `curl -sf -o /dev/null -X POST -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: DynamoDB_20120810.ListTables' ` +
		`-H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x' ` +
		`-d '{}' "$` + dynamodblocal.EndpointEnv + `" || exit 1`
	var stdout, stderr bytes.Buffer
	code := run([]string{"--", "sh", "-c", `echo "$` + dynamodblocal.EndpointEnv + `"; ` + listTables + `; exit 7`}, nil, &stdout, &stderr)
	if code != 7 {
		t.Fatalf("exit code %d, want the command's 7 (1: ListTables through the endpoint failed)\nstderr: %s", code, stderr.String())
	}
	url := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("the command saw %s=%q, want a local URL", dynamodblocal.EndpointEnv, url)
	}
	if _, err := dynamodblocal.Existing(context.Background(), url); err == nil {
		t.Fatalf("DynamoDB Local at %s still answers after the command ended", url)
	}
}
