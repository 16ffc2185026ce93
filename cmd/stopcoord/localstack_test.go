package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/stack"
	"github.com/stopcoord/stopcoord/local/testbed"
)

func TestMain(m *testing.M) {
	code := testbed.RunTests(m)
	shared.mu.Lock()
	if shared.stack != nil {
		shared.stack.Close()
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// shared is one local stack per test binary: it takes seconds to start
// (moto, DynamoDB Local, five functions under aws-lambda-rie).
var shared struct {
	mu      sync.Mutex
	dir     string
	stack   *stack.Stack
	err     error
	lambdas *lambdaSteps
}

// lambdaSteps runs the pipelines' Lambda steps: each function ARN's
// behaviour is set by the test that uses it.
type lambdaSteps struct {
	mu    sync.Mutex
	funcs map[string]func(ctx context.Context, args map[string]any) string
}

func (l *lambdaSteps) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The emulator posts the step's resolved arguments; "fn" names the
	// behaviour (the endpoint is shared by every function ARN).
	body, _ := io.ReadAll(r.Body)
	var args map[string]any
	json.Unmarshal(body, &args)
	name, _ := args["fn"].(string)
	l.mu.Lock()
	f := l.funcs[name]
	l.mu.Unlock()
	if f == nil {
		io.WriteString(w, `{"errorMessage":"no behaviour `+name+`"}`)
		return
	}
	io.WriteString(w, f(r.Context(), args))
}

func (l *lambdaSteps) set(name string, f func(ctx context.Context, args map[string]any) string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.funcs[name] = f
}

// localStack starts the synthesized stack on this machine as `make local`
// does, with the gateway checking SigV4 and refusing unsigned requests as
// API Gateway does. The template is `make synth`'s when
// STOPCOORD_TEMPLATE names it, otherwise synthesized here from ./infra;
// the bootstraps are built here.
func localStack(t *testing.T) (*stack.Stack, *lambdaSteps) {
	t.Helper()
	stack.RequireTools(t)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.stack != nil || shared.err != nil {
		if shared.err != nil {
			t.Fatal(shared.err)
		}
		return shared.stack, shared.lambdas
	}
	dir, err := os.MkdirTemp("", "stopcoord-cli-test-")
	if err != nil {
		t.Fatal(err)
	}
	shared.dir = dir
	bin, functions, err := testbed.FunctionBootstraps(t, "../..", dir)
	if err != nil {
		t.Fatal(err)
	}
	template := os.Getenv("STOPCOORD_TEMPLATE")
	if template == "" {
		procs.RequireTool(t, "node", "install Node.js 20+ (the CDK app runs on jsii)")
		if template, err = testbed.Synthesize("../..", dir, functions, nil); err != nil {
			t.Fatal(err)
		}
	}
	shared.lambdas = &lambdaSteps{funcs: map[string]func(context.Context, map[string]any) string{}}
	steps := httptest.NewServer(shared.lambdas)
	shared.stack, shared.err = stack.Start(context.Background(), stack.Config{
		Template: template, BinDir: bin, GatewayAddr: "127.0.0.1:0",
		RequireSigV4:  true,
		ScheduleEvery: 5 * time.Second,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Emulator: func(o *emulator.Options) {
			o.JobDuration = time.Hour // training runs until it is stopped
			o.StopDelay = 200 * time.Millisecond
			o.Lambda["*"] = emulator.LambdaEndpoint{URL: steps.URL}
		},
	})
	if shared.err != nil {
		steps.Close()
		t.Fatal(shared.err)
	}
	return shared.stack, shared.lambdas
}

// runCLI runs the CLI in-process as a user would from a shell pointed at
// the local stack (STOPCOORD_ENDPOINT, the local credentials through the
// SDK's default chain), and returns its exit code and output.
func runCLI(t *testing.T, s *stack.Stack, args ...string) (int, string, string) {
	t.Helper()
	var stdout strings.Builder
	code, stderr := runCLIWith(t, s, &stdout, args...)
	return code, stdout.String(), stderr
}

// runCLIWith is runCLI writing its standard output to stdout.
func runCLIWith(t *testing.T, s *stack.Stack, stdout io.Writer, args ...string) (int, string) {
	t.Helper()
	env := map[string]string{
		"STOPCOORD_ENDPOINT": s.GatewayURL,
		"AWS_REGION":         "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stderr strings.Builder
	c := &cli{stdout: stdout, stderr: &stderr, getenv: os.Getenv, loadAWS: loadDefaultAWS}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	code := c.run(ctx, args)
	return code, stderr.String()
}

// watchedOutput is an output that tells when a text has appeared in it.
type watchedOutput struct {
	mu   sync.Mutex
	buf  strings.Builder
	text string
	seen chan struct{}
}

func watchFor(text string) *watchedOutput {
	return &watchedOutput{text: text, seen: make(chan struct{})}
}

func (w *watchedOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.seen != nil && strings.Contains(w.buf.String(), w.text) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

func (w *watchedOutput) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
