// Command stopcoord is the operator's side of stopcoord: stop an execution
// or a whole pipeline and wait until it has stopped, see what a stop waits
// for, and check in your own account how SageMaker Pipelines behaves where
// its documentation is silent (doctor).
//
//	stopcoord stop <execution ARN | pipeline/execution-id> [--force] [--reason R] [--wait]
//	stopcoord stop --pipeline NAME [--force] [--reason R] [--wait]
//	stopcoord status <execution> [-o json]
//	stopcoord wait <stop-id>
//	stopcoord stops [--stuck [--older-than 15m]] [-o json]
//	stopcoord doctor --role ARN [--keep-going]
//
// The API endpoint comes from --endpoint, STOPCOORD_ENDPOINT, or the ApiUrl
// output of the CloudFormation stack named by --stack / STOPCOORD_STACK
// (default StopCoord). Requests are signed with the SDK's default
// credentials. The exit code says whether the execution ended as asked.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// Exit codes.
const (
	exitOK         = 0 // the execution ended as asked (Stopped), or the request was accepted
	exitError      = 1 // the request failed
	exitUsage      = 2 // the command line is wrong
	exitNotAsAsked = 3 // the execution ended, but not Stopped (a Lambda step timed out, or it finished first)
	exitTimeout    = 4 // --wait gave up before the execution ended
	// exitStuck is `stops --stuck` finding a stuck stop, so a script or a
	// scheduled check can alert on the exit code alone.
	exitStuck = 5
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := (&cli{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, loadAWS: loadDefaultAWS}).run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

func loadDefaultAWS(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }

// cli is one invocation: where it writes, how it reads the environment and
// loads the AWS configuration (the default chain; tests keep it).
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	loadAWS        func(context.Context) (aws.Config, error)
}

// usageError is a command-line mistake: exit 2 with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const usage = `usage: stopcoord <command> [flags]

commands:
  stop <execution ARN | pipeline/execution-id> [--force] [--reason R] [--wait]
                      stop one execution; --wait shows what still blocks the stop until it ends
  stop --pipeline NAME [--force] [--reason R] [--wait]
                      stop every running execution of a pipeline
  status <execution> [-o json]
                      steps, open callbacks, Lambda steps with their end-by time, cleanups, timeline
  wait <stop-id>      wait until the stop's execution has ended
  stops [--stuck] [--older-than 15m] [-o json]
                      open stops and what each waits for; --stuck: only those open longer than
                      --older-than, exit 5 if any (for scripts and scheduled checks)
  doctor --role ARN   check SageMaker's undocumented behaviours in this account (see stopcoord doctor -h)

endpoint: --endpoint URL, or STOPCOORD_ENDPOINT, or the ApiUrl output of the stack
          --stack NAME / STOPCOORD_STACK (default StopCoord)
exit codes: 0 ended as asked (or accepted), 1 failed, 2 usage, 3 ended but not Stopped, 4 gave up waiting,
            5 stops --stuck found a stuck stop
`

func (c *cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, usage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	commands := map[string]func(context.Context, []string) (int, error){
		"stop":   c.stop,
		"status": c.status,
		"wait":   c.wait,
		"stops":  c.stops,
		"doctor": c.doctor,
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(c.stderr, "stopcoord: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
	code, err := cmd(ctx, args[1:])
	var ue *usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(c.stderr, "stopcoord %s: %s\n", args[0], ue.msg)
		return exitUsage
	case err != nil:
		fmt.Fprintf(c.stderr, "stopcoord %s: %v\n", args[0], err)
		if code == exitOK {
			code = exitError
		}
	}
	return code
}

// parse parses flags that may come before or after the positional
// arguments ("stop ARN --wait" as well as "stop --wait ARN").
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
