package cleanup_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/shared/cleanup"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

var cleanupFn struct {
	once sync.Once
	path string
	err  error
}

// lambdaUnderRIE runs the test cleanup function under its own RIE and
// returns a Lambda client pointed at it (RIE names every function
// "function"). One attempt per call: a retried invoke would run the
// cleanup again, and RIE serves one invoke at a time.
func lambdaUnderRIE(t *testing.T, timeout time.Duration) *lambda.Client {
	t.Helper()
	// Built once into the binary's own directory: a test's TempDir would
	// vanish with the first test.
	cleanupFn.once.Do(func() {
		cleanupFn.path = filepath.Join(binDir, "cleanupfn", "bootstrap")
		cleanupFn.err = rie.Build("./testdata/cleanupfn", cleanupFn.path)
	})
	if cleanupFn.err != nil {
		t.Fatal(cleanupFn.err)
	}
	fn := rie.StartT(t, rie.Spec{Bootstrap: cleanupFn.path, Name: "cleanup", Timeout: timeout})
	return lambda.NewFromConfig(awsConfig(t), func(o *lambda.Options) { o.BaseEndpoint = aws.String(fn.URL); o.RetryMaxAttempts = 1 })
}

func TestLambdaUnderRIE(t *testing.T) {
	c := lambdaUnderRIE(t, 5*time.Second)
	fn := pipeline.Resource{Kind: pipeline.ResourceLambdaCleanup, ID: "function"}
	tests := []struct {
		name    string
		args    map[string]any
		wantErr string
	}{
		{"succeeds", map[string]any{}, ""},
		{"function fails", map[string]any{"mode": "error"}, "could not reach the job scheduler"},
		{"succeeds after a failure", map[string]any{"mode": "sleep", "sleepMs": 10.0}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := cc
			ctx.Arguments = tt.args
			checkErr(t, (cleanup.Lambda{Client: c}).Clean(context.Background(), fn, ctx), tt.wantErr)
		})
	}
}

// TestLambdaTimeout: the cleaner timeout (the context's deadline) ends the
// wait for a cleanup function that runs too long.
func TestLambdaTimeout(t *testing.T) {
	c := lambdaUnderRIE(t, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	slow := cc
	slow.Arguments = map[string]any{"mode": "sleep", "sleepMs": 2000.0}
	start := time.Now()
	err := (cleanup.Lambda{Client: c}).Clean(ctx, pipeline.Resource{Kind: pipeline.ResourceLambdaCleanup, ID: "function"}, slow)
	if err == nil || !strings.Contains(err.Error(), "deadline exceeded") {
		t.Fatalf("Clean of a slow function: %v, want the deadline", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Fatalf("waited %s for a 300ms cleaner timeout", waited)
	}
}

// TestLambdaRuntimeTimeout: a function killed at its own timeout is a
// failed cleanup, not a success.
func TestLambdaRuntimeTimeout(t *testing.T) {
	c := lambdaUnderRIE(t, time.Second)
	slow := cc
	slow.Arguments = map[string]any{"mode": "sleep", "sleepMs": 3000.0}
	err := (cleanup.Lambda{Client: c}).Clean(context.Background(), pipeline.Resource{Kind: pipeline.ResourceLambdaCleanup, ID: "function"}, slow)
	if err == nil || !strings.Contains(err.Error(), "Task timed out") {
		t.Fatalf("Clean of a function past its timeout: %v, want a failure", err)
	}
}
