// Package rie runs a function's bootstrap under the AWS Lambda Runtime
// Interface Emulator, the way `sam local` does, on free 127.0.0.1 ports.
package rie

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/procs"
)

// PathEnv names the variable that points at the aws-lambda-rie binary; the
// Makefile exports it. Without it, PATH and then .local/bin of the module
// are searched.
const PathEnv = "STOPCOORD_AWS_LAMBDA_RIE"

// InstallHint says how to get aws-lambda-rie.
const InstallHint = "run `make tools` (builds the pinned Go tool into .local/bin)"

// InvokePath is where RIE takes invocations; the function name is always
// "function".
const InvokePath = "/2015-03-31/functions/function/invocations"

// Function is one bootstrap running under its own RIE instance. RIE takes
// one invocation at a time; Invoke queues concurrent calls.
type Function struct {
	// URL is the RIE base URL; POST events to URL + InvokePath.
	URL  string
	proc *procs.Process
	// mu is held by Invoke for a whole call: a second concurrent invoke
	// crashes RIE.
	mu sync.Mutex
}

// Spec describes the function to run.
type Spec struct {
	Bootstrap string        // path of the bootstrap binary
	Env       []string      // the function's environment (RIE passes its own to the bootstrap)
	Timeout   time.Duration // the function timeout RIE enforces; default 30 s
	Name      string        // AWS_LAMBDA_FUNCTION_NAME
	// Log, when set, also receives what RIE and the function write, as
	// they write it (Output keeps a bounded copy).
	Log io.Writer
	// RIELogLevel is RIE's own --log-level (debug, info, warn, error);
	// empty keeps RIE's default, info. Its START, END and REPORT lines
	// are printed at every level, as Lambda's are.
	RIELogLevel string
}

// Find returns the path of aws-lambda-rie or an error that says how to get it.
func Find() (string, error) {
	if p := os.Getenv(PathEnv); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("aws-lambda-rie"); err == nil {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".local", "bin", "aws-lambda-rie")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("aws-lambda-rie not found: %s", InstallHint)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("aws-lambda-rie not found: %s", InstallHint)
		}
		dir = parent
	}
}

// Start runs the bootstrap under RIE. Each instance gets its own emulator
// and runtime API ports: two instances on the default runtime port crash.
func Start(ctx context.Context, riePath string, s Spec) (*Function, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	timeout := s.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	name := s.Name
	if name == "" {
		name = filepath.Base(filepath.Dir(s.Bootstrap))
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	env := append([]string{
		"AWS_LAMBDA_FUNCTION_NAME=" + name,
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int((timeout+time.Second-1)/time.Second)),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
	}, s.Env...)
	args := []string{"--runtime-interface-emulator-address", addr, "--runtime-api-address", "127.0.0.1:" + strconv.Itoa(apiPort)}
	if s.RIELogLevel != "" {
		args = append(args, "--log-level", s.RIELogLevel)
	}
	args = append(args, s.Bootstrap)
	p, err := procs.Start(ctx, procs.Spec{
		Name: "aws-lambda-rie " + name,
		Path: riePath,
		Args: args,
		Env:  env,
		Log:  s.Log,
		// RIE starts the bootstrap on the first invoke, so listening is ready.
		Ready: func(ctx context.Context) error {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			return c.Close()
		},
	})
	if err != nil {
		return nil, err
	}
	return &Function{URL: procs.HTTPURL(port), proc: p}, nil
}

// StartT runs the bootstrap under RIE for a test and stops it at the end.
// It skips (fails in CI) when aws-lambda-rie is missing. Without a Timeout
// in the spec, the function gets two minutes times procs.Slowdown(): a
// test that is not about the function's timeout must not fail by it on a
// busy machine.
func StartT(t testing.TB, s Spec) *Function {
	t.Helper()
	if s.Timeout == 0 {
		s.Timeout = procs.Scaled(2 * time.Minute)
	}
	path, err := Find()
	if err != nil {
		procs.Missing(t, err.Error())
	}
	f, err := Start(context.Background(), path, s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// Pid is RIE's process id; the bootstrap runs as its child, in its process
// group. (A fault-injection run kills or pauses them.)
func (f *Function) Pid() int { return f.proc.Pid() }

// Stop stops RIE and the bootstrap it runs.
func (f *Function) Stop() { f.proc.Stop() }

// Output is what RIE and the function wrote (their logs).
func (f *Function) Output() string { return f.proc.Output() }

// Build compiles a Lambda main package the way the Makefile does (static,
// lambda.norpc, stripped) into dst, a bootstrap for the host.
func Build(pkg, dst string) error {
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", dst, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// BuildT builds a bootstrap into the test's temporary directory.
func BuildT(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	if err := Build(pkg, out); err != nil {
		t.Fatal(err)
	}
	return out
}
