// Command dynamodb-local runs one DynamoDB Local for a whole command, such
// as a `go test ./...` run, and tells the command where it is:
//
//	dynamodb-local -- go test -race ./...   (what `make test` runs)
//	dynamodb-local                           (serve until Ctrl-C)
//
// The command gets STOPCOORD_DYNAMODB_ENDPOINT, which local/dynamodblocal
// honours, so every test binary of the run shares this one JVM (each test
// still gets a fresh table) instead of each binary starting its own at the
// same moment. The server is stopped when the command ends, and dies with
// this process if it is killed. Without Java or the jar, the command runs
// as it is, and each test skips with the install hint (fails under CI=true).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)

	java, jar, err := dynamodblocal.Tools()
	if err != nil {
		if len(args) == 0 {
			fmt.Fprintln(stderr, "dynamodb-local:", err)
			return 1
		}
		fmt.Fprintf(stderr, "dynamodb-local: %v; running %s without a shared DynamoDB Local\n", err, args[0])
		return runCommand(args, nil, stdin, stdout, stderr, signals)
	}
	srv, err := dynamodblocal.Start(context.Background(), java, jar)
	if err != nil {
		fmt.Fprintln(stderr, "dynamodb-local:", err)
		return 1
	}
	defer srv.Stop()
	if len(args) == 0 {
		fmt.Fprintf(stdout, "DynamoDB Local at %s (Ctrl-C stops it)\n%s=%s\n", srv.URL, dynamodblocal.EndpointEnv, srv.URL)
		select {
		case <-signals:
		case <-srv.Done():
			fmt.Fprintln(stderr, "dynamodb-local: DynamoDB Local exited")
			return 1
		}
		return 0
	}
	return runCommand(args, []string{dynamodblocal.EndpointEnv + "=" + srv.URL}, stdin, stdout, stderr, signals)
}

// runCommand runs the command with the extra environment, passes on the
// signals this process gets, and returns the command's exit code.
func runCommand(args, env []string, stdin io.Reader, stdout, stderr io.Writer, signals <-chan os.Signal) int {
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(stderr, "dynamodb-local:", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case sig := <-signals:
			_ = cmd.Process.Signal(sig)
		case err := <-done:
			var exit *exec.ExitError
			switch {
			case err == nil:
				return 0
			case errors.As(err, &exit):
				if code := exit.ExitCode(); code > 0 {
					return code
				}
				return 1 // killed by a signal
			default:
				fmt.Fprintln(stderr, "dynamodb-local:", err)
				return 1
			}
		}
	}
}
