// Command chaos runs stopcoord under faults on this machine (make chaos):
// it starts the synthesized stack locally as make demo does, runs N
// executions of mixed pipelines, fires every kind of stop at once while
// faults are injected (SageMaker throttling and 5xx, duplicated and
// reordered callback messages and events, a dropped Stopping message, a
// function killed mid-batch, DynamoDB Local paused, a worker that registers
// late), and then checks every promise against the emulator's truth. It
// prints a table of the invariants and exits non-zero, naming the
// execution and the seed, when one did not hold.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chaos failed:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	template, bin string
	n             int
	seed          int64
	settle        time.Duration
	timeout       time.Duration
	verbose       bool
	functionLogs  string // a file for every line the functions log
	only          string // comma-separated script names; empty runs them all
	faults        faultSwitches
}

// faultSwitches turn each fault on or off; all are on by default.
type faultSwitches struct {
	sageMakerRate   float64       // throttling + 5xx, split evenly, on every SageMaker operation
	dupCallbacks    float64       // share of callback-queue deliveries repeated with the same MessageId
	dupEvents       float64       // share of SageMaker events delivered twice
	reorderEvents   float64       // share of SageMaker events held back behind the next
	dropStopping    float64       // share of executions whose Stopping messages are lost
	kill            bool          // kill the callback function's process mid-batch
	pauseDynamoDB   time.Duration // SIGSTOP DynamoDB Local this long while the stops run
	lateRegister    bool          // a worker that registers its resource after the stop
	flakyCleanup    int           // failures of the cleanup Lambda before it succeeds
	lambdaSteps     bool          // pipelines with Lambda steps
	abandonCleanups bool          // one cleanup Lambda that always fails
	loseMessages    int           // Stopping messages lost on their way to the callback function (off by default)
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.template, "template", ".local/chaos/StopCoord.template.json", "the template synthesized with the chaos context (make chaos does it)")
	fs.StringVar(&o.bin, "bin", ".local/bin", "the functions' host bootstraps (make build)")
	fs.IntVar(&o.n, "n", 100, "how many executions to run")
	fs.Int64Var(&o.seed, "seed", 0, "the seed of every random choice; 0 picks one (printed, for a replay)")
	fs.DurationVar(&o.settle, "settle", 0, "how long the stops may take to end after they were fired; 0 means 3m plus 3s per execution (the local stack runs one instance of each function, so events queue up with N)")
	fs.DurationVar(&o.timeout, "timeout", 25*time.Minute, "give up after this long")
	fs.BoolVar(&o.verbose, "v", false, "show what the local parts log")
	fs.StringVar(&o.functionLogs, "function-logs", "", "write every line the functions log to this file (the evidence behind a violation)")
	fs.StringVar(&o.only, "scripts", "", "run only these scripts (comma-separated: graceful, force, bulk, event, scheduled, max-runtime, fail-fast, unstopped, lambda-finishes, lambda-times-out, late-register)")
	fs.Float64Var(&o.faults.sageMakerRate, "sagemaker-faults", 0.2, "share of SageMaker calls answered with ThrottlingException or InternalFailure (half each); 0 turns it off")
	fs.Float64Var(&o.faults.dupCallbacks, "dup-callbacks", 0.3, "share of callback-queue deliveries repeated with the same MessageId, in the same batch or a later one; 0 turns it off")
	fs.Float64Var(&o.faults.dupEvents, "dup-events", 0.2, "share of SageMaker events delivered twice; 0 turns it off")
	fs.Float64Var(&o.faults.reorderEvents, "reorder-events", 0.2, "share of SageMaker events delivered after the next one; 0 turns it off")
	fs.Float64Var(&o.faults.dropStopping, "drop-stopping", 0.1, "share of executions whose Stopping messages SageMaker loses (at least one when on); 0 turns it off")
	fs.BoolVar(&o.faults.kill, "kill", true, "kill the callback function's process in the middle of a batch (aws-lambda-rie starts it again)")
	fs.DurationVar(&o.faults.pauseDynamoDB, "pause-dynamodb", 3*time.Second, "pause DynamoDB Local (SIGSTOP, then SIGCONT) this long while the stops run; 0 turns it off")
	fs.BoolVar(&o.faults.lateRegister, "late-register", true, "executions whose worker registers its resource after the stop")
	fs.IntVar(&o.faults.flakyCleanup, "flaky-cleanup", 2, "failures of each cleanup Lambda call before it succeeds")
	fs.BoolVar(&o.faults.lambdaSteps, "lambda-steps", true, "pipelines with Lambda steps (one that finishes on a stop, one that times out)")
	fs.BoolVar(&o.faults.abandonCleanups, "abandon", true, "one execution whose cleanup Lambda always fails, so its token is answered anyway and flagged")
	fs.IntVar(&o.faults.loseMessages, "lose-messages", 0, "lose this many Stopping messages between the callback queue and its function (deleted unprocessed): a real loss, which the SQS invariant must report; off by default")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.n < 1 {
		return fmt.Errorf("-n %d: want at least 1", o.n)
	}
	if o.settle == 0 {
		o.settle = 3*time.Minute + time.Duration(o.n)*3*time.Second
	}
	if o.seed == 0 {
		o.seed = time.Now().UnixNano() % 1_000_000_007
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	c := &chaos{opts: o, out: out}
	return c.run(ctx)
}
