// Command stopcoord-local runs the synthesized stopcoord stack on this
// machine, the way SAM local would, and prints its endpoints:
//
//	stopcoord-local                      keep the stack running (make local)
//	stopcoord-local -invoke FN -event F  invoke one function once (make invoke)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"syscall"
	"time"

	"github.com/stopcoord/stopcoord/local/stack"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stopcoord-local:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("stopcoord-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	template := fs.String("template", "cdk.out/StopCoord.template.json", "the synthesized template (make synth)")
	bin := fs.String("bin", ".local/bin", "where each function's host bootstrap is (<bin>/<function>/bootstrap, make build)")
	gateway := fs.String("gateway", "127.0.0.1:3000", "address of the local HTTP API")
	every := fs.Duration("schedule-every", time.Minute, "run scheduled rules this often instead of their rate (0: the template's rate)")
	invoke := fs.String("invoke", "", "invoke this function once with -event and exit")
	event := fs.String("event", "", "the event file for -invoke (events/...)")
	verbose := fs.Bool("v", false, "log what the local parts do")
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := stack.Config{Template: *template, BinDir: *bin, GatewayAddr: *gateway, ScheduleEvery: *every, Logger: log}
	ctx := context.Background()

	if *invoke != "" {
		if *event == "" {
			return fmt.Errorf("-invoke needs -event")
		}
		payload, err := os.ReadFile(*event)
		if err != nil {
			return err
		}
		cfg.NoPollers, cfg.GatewayAddr = true, "127.0.0.1:0"
		s, err := stack.Start(ctx, cfg)
		if err != nil {
			return err
		}
		defer s.Close()
		fn, ok := s.Functions[*invoke]
		if !ok {
			return fmt.Errorf("no function %q in the template; have %v", *invoke, names(s))
		}
		out, err := fn.Invoke(ctx, payload)
		fmt.Fprintln(stdout, string(out))
		if err != nil {
			fmt.Fprintln(stderr, fn.Output())
		}
		return err
	}

	s, err := stack.Start(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "stopcoord local stack is up (Ctrl-C stops it)\n")
	fmt.Fprintf(stdout, "  HTTP API            %s   (requests stand for %s; set %s to change)\n", s.GatewayURL, stack.DefaultCaller, stack.CallerHeader)
	fmt.Fprintf(stdout, "  CLI                 export STOPCOORD_ENDPOINT=%s AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test; go run ./cmd/stopcoord status <pipeline>/<execution-id>\n", s.GatewayURL)
	fmt.Fprintf(stdout, "  SageMaker emulator  %s   (AWS_ENDPOINT_URL_SAGEMAKER)\n", s.SageMakerURL)
	fmt.Fprintf(stdout, "  moto                %s   (SQS, EventBridge, Step Functions, Glue, ...)\n", s.MotoURL)
	fmt.Fprintf(stdout, "  DynamoDB Local      %s\n", s.DynamoDBURL)
	fmt.Fprintf(stdout, "  Lambda Invoke API   %s\n", s.LambdaURL)
	for _, id := range sortedKeys(s.Queues) {
		fmt.Fprintf(stdout, "  queue %-30s %s\n", id, s.Queues[id])
	}
	for _, id := range sortedKeys(s.Tables) {
		fmt.Fprintf(stdout, "  table %-30s %s\n", id, s.Tables[id])
	}
	for _, n := range names(s) {
		fmt.Fprintf(stdout, "  function %-27s %s\n", n, s.Functions[n].URL)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	fmt.Fprintln(stdout, "stopping")
	return nil
}

func names(s *stack.Stack) []string { return sortedKeys(s.Functions) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
