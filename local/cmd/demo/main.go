// Command demo runs stopcoord's main job end to end on this machine (make
// demo): it starts the synthesized stack locally, runs a pipeline with a
// training step, three callback steps whose workers started a Step
// Functions execution, a Glue job run and a job with a cleanup Lambda, and
// a Lambda step; stops it with one HTTP call; and prints what happened, in
// order, with the ledger's final view and the stop latency. It exits
// non-zero if any part of the stop did not happen.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo failed:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	template := fs.String("template", "cdk.out/StopCoord.template.json", "the synthesized template (make synth)")
	bin := fs.String("bin", ".local/bin", "the functions' host bootstraps (make build)")
	gateway := fs.String("gateway", "127.0.0.1:3000", "the local HTTP API's address; a free port if this one is taken")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after this long")
	verbose := fs.Bool("v", false, "show what the local parts log")
	warm := fs.Int("warm-ledger", 300, "make a stop's ledger calls this many times before the measured stop, so DynamoDB Local's JVM has compiled them (0: measure on a cold stand-in)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if l, err := net.Listen("tcp", *gateway); err != nil {
		*gateway = "127.0.0.1:0"
	} else {
		l.Close()
	}
	// Ctrl-C or a CI timeout ends the demo through its deferred cleanup, so
	// no server is left behind.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	d := &demo{out: out, template: *template, bin: *bin, gateway: *gateway, verbose: *verbose, warmRounds: *warm}
	return d.run(ctx)
}
