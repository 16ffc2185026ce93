// Command stopcoord-local runs the synthesized stopcoord stack on this
// machine, the way SAM local would, and prints its endpoints:
//
//	stopcoord-local                      keep the stack running (make local)
//	stopcoord-local -invoke FN -event F  invoke one function once (make invoke)
//
// Every function's log lines go to stderr, prefixed with its name. Lambda
// steps run too: those naming one of the stack's functions, and those
// naming a function given with -lambda ARN=path/to/bootstrap (run under
// aws-lambda-rie) or -lambda ARN=http://endpoint. The SageMaker emulator's
// switches and faults have the same flags as sagemaker-emulator's
// (-duplicate-events, -fault, -seed, ...).
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

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/stack"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "stopcoord-local:", err)
		os.Exit(1)
	}
}

// command is what the flags ask for.
type command struct {
	cfg           stack.Config
	invoke, event string
}

// parseFlags reads the flags into the stack's configuration; every
// function's logs go to stderr unless -function-logs=false, and always
// for -invoke.
func parseFlags(args []string, stderr io.Writer) (*command, error) {
	fs := flag.NewFlagSet("stopcoord-local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	template := fs.String("template", "cdk.out/StopCoord.template.json", "the synthesized template (make synth)")
	bin := fs.String("bin", ".local/bin", "where each function's host bootstrap is (<bin>/<function>/bootstrap, make build)")
	gateway := fs.String("gateway", "127.0.0.1:3000", "address of the local HTTP API")
	every := fs.Duration("schedule-every", time.Minute, "run scheduled rules this often instead of their rate (0: the template's rate)")
	invoke := fs.String("invoke", "", "invoke this function once with -event and exit")
	event := fs.String("event", "", "the event file for -invoke (events/...)")
	verbose := fs.Bool("v", false, "log what the local parts do")
	functionLogs := fs.Bool("function-logs", true, "show every function's log lines on stderr, prefixed with its name")
	var lambdas []stack.Lambda
	fs.Func("lambda", "run Lambda steps (and invocations) of function `ARN=TARGET`, where TARGET is a bootstrap to run under aws-lambda-rie or an http(s) URL that gets the event as a POST; repeatable", func(v string) error {
		l, err := stack.ParseLambda(v)
		lambdas = append(lambdas, l)
		return err
	})
	concurrency := fs.Int("lambda-concurrency", stack.DefaultLambdaConcurrency, "most instances of one -lambda bootstrap running at once")
	var emu emulator.Options
	emu.AddFlags(fs) // the emulator's time, switches and faults, as sagemaker-emulator takes them
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *invoke != "" && *event == "" {
		return nil, fmt.Errorf("-invoke needs -event")
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	c := &command{invoke: *invoke, event: *event, cfg: stack.Config{
		Template: *template, BinDir: *bin, GatewayAddr: *gateway, ScheduleEvery: *every,
		Logger:          slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
		EmulatorOptions: emu, Lambdas: lambdas, LambdaConcurrency: *concurrency,
	}}
	if *functionLogs || *invoke != "" {
		c.cfg.FunctionLogs = stderr
	}
	return c, nil
}

func run(args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, invoke, event := c.cfg, &c.invoke, &c.event
	lambdas := cfg.Lambdas
	ctx := context.Background()

	if *invoke != "" {
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
	fmt.Fprintf(stdout, "  Lambda Invoke API   %s   (AWS_ENDPOINT_URL_LAMBDA)\n", s.LambdaURL)
	for _, id := range sortedKeys(s.Queues) {
		fmt.Fprintf(stdout, "  queue %-30s %s\n", id, s.Queues[id])
	}
	for _, id := range sortedKeys(s.Tables) {
		fmt.Fprintf(stdout, "  table %-30s %s\n", id, s.Tables[id])
	}
	for _, n := range names(s) {
		fmt.Fprintf(stdout, "  function %-27s %s\n", n, s.Functions[n].URL)
	}
	for _, l := range lambdas {
		target := l.URL
		if target == "" {
			target = l.Bootstrap + " (under aws-lambda-rie, started on demand)"
		}
		fmt.Fprintf(stdout, "  Lambda step target  %s -> %s\n", l.ARN, target)
	}
	fmt.Fprintf(stdout, "  Lambda steps may also name the stack's functions: %s\n", stack.FunctionARN("<function>"))
	if cfg.FunctionLogs != nil {
		fmt.Fprintf(stdout, "Function logs follow on stderr, each line prefixed with [function].\n")
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
