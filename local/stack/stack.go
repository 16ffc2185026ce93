package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/local/gluestandin"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sqspoller"
)

var jsonMarshal = json.Marshal

// stackSeq tells apart the tables of stacks sharing one DynamoDB Local.
var stackSeq atomic.Int64

// Config says where the pieces are and how to run them.
type Config struct {
	Template string // cdk.out/StopCoord.template.json
	BinDir   string // .local/bin: <function>/bootstrap for the host
	// GatewayAddr is where the HTTP API listens: 127.0.0.1:3000 as with
	// `sam local start-api`, or 127.0.0.1:0 for a free port.
	GatewayAddr string
	// ScheduleEvery replaces every schedule's rate (0 keeps the template's).
	ScheduleEvery time.Duration
	// EmulatorOptions is how the SageMaker emulator behaves: time scale,
	// switches, faults (the flags of emulator.Options.AddFlags). The stack
	// sets where it sends things: SQS, EventBridge, Lambda and its logger.
	EmulatorOptions emulator.Options
	// Emulator adjusts the emulator's options last, before it starts.
	Emulator func(*emulator.Options)
	// Lambdas are functions outside the template, for pipelines' Lambda
	// steps (and anything else that invokes them): `-lambda ARN=...`.
	// The template's own functions are Lambda-step targets too, by the
	// ARN the stack gives them.
	Lambdas []Lambda
	// LambdaConcurrency bounds the instances of each bootstrap of Lambdas;
	// default DefaultLambdaConcurrency.
	LambdaConcurrency int
	// FunctionLogs receives every line the functions write, prefixed with
	// the function's name; nil keeps them only in each function's Output.
	FunctionLogs io.Writer
	// DynamoDBURL is a DynamoDB Local to use instead of starting one; the
	// stack's tables then get names no other user of it has.
	DynamoDBURL string
	// Env adds to (and overrides) every function's environment.
	Env    map[string]string
	Logger *slog.Logger
	// RequireSigV4 makes the HTTP API refuse unsigned requests (403), as API
	// Gateway's IAM authorisation does; signed ones are always verified.
	RequireSigV4 bool
	// NoPollers leaves out the event-source pollers, rule relays and
	// schedules, for a one-shot invoke.
	NoPollers bool
	// Hooks let a harness wrap the pollers' SQS clients and functions.
	Hooks *Hooks
	// PollerConcurrency, when positive, is how many batches every queue's
	// poller invokes at once, overriding what Lambda would do (see
	// pollerConcurrency). 1 keeps each function on its one instance.
	PollerConcurrency int
}

// Stack is the running local stack.
type Stack struct {
	GatewayURL   string // the HTTP API
	SageMakerURL string // the emulator
	MotoURL      string // SQS, EventBridge, Step Functions, Batch, ...
	GlueURL      string // moto's Glue behind a stand-in that can stop job runs
	Glue         *gluestandin.StandIn
	DynamoDBURL  string
	// DynamoDB is the DynamoDB Local the stack started, or one named by
	// Config.DynamoDBURL (whose Pid is 0).
	DynamoDB  *dynamodblocal.Server
	LambdaURL string            // the local Lambda Invoke API
	Tables    map[string]string // logical id -> table name
	Queues    map[string]string // logical id -> queue URL
	Functions map[string]*rie.Function
	Emulator  *emulator.Emulator
	AWS       aws.Config // static local credentials and region
	Lambdas   *lambdaAPI
	// FunctionEnv is each function's resolved environment.
	FunctionEnv map[string][]string
	// PollerConcurrency is, per function a queue feeds, how many of its
	// batches are invoked at once.
	PollerConcurrency map[string]int

	log       *slog.Logger
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closers   []func()
	physical  physical
	template  *Template
	closeOnce sync.Once
	lines     *procs.Lines // nil: function logs are not streamed
	tableName func(id string) string
	specs     map[string]rie.Spec // function name -> how it runs, for more instances of it
}

// Start brings the whole stack up. On error, whatever started is stopped.
func Start(ctx context.Context, cfg Config) (_ *Stack, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	t, err := ReadTemplate(cfg.Template)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s := &Stack{log: cfg.Logger, cancel: cancel, physical: physical{}, template: t,
		Tables: map[string]string{}, Queues: map[string]string{}, Functions: map[string]*rie.Function{}, FunctionEnv: map[string][]string{}, PollerConcurrency: map[string]int{},
		tableName: func(id string) string { return "StopCoord-" + id }, specs: map[string]rie.Spec{}}
	if cfg.FunctionLogs != nil {
		s.lines = procs.NewLines(cfg.FunctionLogs)
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.AWS, err = localaws.Config(ctx); err != nil {
		return nil, err
	}
	steps := []struct {
		what string
		do   func(context.Context, Config) error
	}{
		{"start moto_server", s.startMoto},
		{"start DynamoDB Local", s.startDynamoDB},
		{"create tables", s.createTables},
		{"create queues", s.createQueues},
		{"create event buses", s.createEventBuses},
		{"start the SageMaker emulator", s.startEmulator},
		{"start the functions", s.startFunctions},
		{"start the functions outside the template", s.startLambdas},
	}
	for _, st := range steps {
		if err := st.do(ctx, cfg); err != nil {
			return nil, fmt.Errorf("local stack: %s: %w", st.what, err)
		}
	}
	if !cfg.NoPollers {
		for _, st := range []struct {
			what string
			do   func(context.Context, context.Context, Config) error
		}{
			{"wire queues to functions", s.startPollers},
			{"wire EventBridge rules", s.startRules},
		} {
			if err := st.do(ctx, runCtx, cfg); err != nil {
				return nil, fmt.Errorf("local stack: %s: %w", st.what, err)
			}
		}
	}
	if err := s.startGateway(cfg); err != nil {
		return nil, fmt.Errorf("local stack: start the HTTP gateway: %w", err)
	}
	return s, nil
}

// Close stops everything the stack started, in reverse order, and waits
// for its goroutines.
func (s *Stack) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.wg.Wait()
		for i := len(s.closers) - 1; i >= 0; i-- {
			s.closers[i]()
		}
	})
}

func (s *Stack) onClose(f func()) { s.closers = append(s.closers, f) }

func (s *Stack) startMoto(ctx context.Context, _ Config) error {
	path, err := exec.LookPath("moto_server")
	if err != nil {
		return fmt.Errorf("moto_server not found: %s", moto.InstallHint)
	}
	m, err := moto.Start(ctx, path)
	if err != nil {
		return err
	}
	s.onClose(m.Stop)
	s.MotoURL = m.URL
	g, err := gluestandin.Start(m.URL)
	if err != nil {
		return err
	}
	s.onClose(g.Close)
	s.Glue, s.GlueURL = g, g.URL
	return nil
}

func (s *Stack) startDynamoDB(ctx context.Context, cfg Config) error {
	if cfg.DynamoDBURL != "" {
		d, err := dynamodblocal.Existing(ctx, cfg.DynamoDBURL)
		if err != nil {
			return err
		}
		s.DynamoDB, s.DynamoDBURL = d, cfg.DynamoDBURL
		suffix := fmt.Sprintf("-%d-%d", os.Getpid(), stackSeq.Add(1))
		s.tableName = func(id string) string { return "StopCoord-" + id + suffix }
		return nil
	}
	java, jar, err := dynamodblocal.Tools()
	if err != nil {
		return err
	}
	d, err := dynamodblocal.Start(ctx, java, jar)
	if err != nil {
		return err
	}
	s.onClose(d.Stop)
	s.DynamoDB, s.DynamoDBURL = d, d.URL
	return nil
}

// createTables creates each AWS::DynamoDB::Table as the template declares
// it: keys, attribute definitions, indexes and TTL.
func (s *Stack) createTables(ctx context.Context, _ Config) error {
	client := dynamodb.NewFromConfig(s.AWS, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.DynamoDBURL)
		o.DisableValidateResponseChecksum = true
	})
	for _, id := range s.template.OfType("AWS::DynamoDB::Table") {
		name := s.tableName(id)
		in, ttl, err := tableInput(name, s.template.Resources[id].Properties)
		if err != nil {
			return fmt.Errorf("table %s: %w", id, err)
		}
		if _, err := client.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("create table %s: %w", id, err)
		}
		if ttl != nil {
			if _, err := client.UpdateTimeToLive(ctx, ttl); err != nil {
				return fmt.Errorf("enable TTL on %s: %w", id, err)
			}
		}
		s.Tables[id] = name
		s.physical.set(id, "", name)
		s.physical.set(id, "Arn", "arn:aws:dynamodb:us-east-1:123456789012:table/"+name)
	}
	return nil
}

// createQueues creates each AWS::SQS::Queue, dead-letter queues first so
// redrive policies can name them.
func (s *Stack) createQueues(ctx context.Context, _ Config) error {
	client := s.sqsClient()
	ids := s.template.OfType("AWS::SQS::Queue")
	created := map[string]bool{}
	for len(created) < len(ids) {
		progress := false
		for _, id := range ids {
			if created[id] {
				continue
			}
			props := s.template.Resources[id].Properties
			attrs := map[string]string{}
			if vt, ok := props["VisibilityTimeout"].(float64); ok {
				attrs["VisibilityTimeout"] = strconv.Itoa(int(vt))
			}
			if rp, ok := props["RedrivePolicy"].(map[string]any); ok {
				dlq := refersTo(rp["deadLetterTargetArn"])
				if !created[dlq] {
					continue // its DLQ first
				}
				arn, err := s.physical.resolve(rp["deadLetterTargetArn"])
				if err != nil {
					return err
				}
				policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": rp["maxReceiveCount"]})
				attrs["RedrivePolicy"] = string(policy)
			}
			out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("StopCoord-" + id), Attributes: attrs})
			if err != nil {
				return fmt.Errorf("create queue %s: %w", id, err)
			}
			url := aws.ToString(out.QueueUrl)
			name := url[strings.LastIndex(url, "/")+1:]
			s.Queues[id] = url
			s.physical.set(id, "", url)
			s.physical.set(id, "QueueUrl", url)
			s.physical.set(id, "QueueName", name)
			s.physical.set(id, "Arn", "arn:aws:sqs:us-east-1:123456789012:"+name)
			created[id], progress = true, true
		}
		if !progress {
			return errors.New("queues' redrive policies refer to each other or to missing queues")
		}
	}
	return nil
}

func (s *Stack) startEmulator(_ context.Context, cfg Config) error {
	lambdas := newLambdaAPI(context.Background(), s.log)
	srv, err := listen("127.0.0.1:0", lambdas)
	if err != nil {
		return err
	}
	s.Lambdas, s.LambdaURL = lambdas, srv.url
	s.onClose(func() { srv.close(); lambdas.Wait() })

	steps, err := s.lambdaSteps(cfg)
	if err != nil {
		return err
	}
	opts := cfg.EmulatorOptions
	opts.SQSEndpoint, opts.EventBridgeEndpoint = s.MotoURL, s.MotoURL
	opts.Lambda = steps
	opts.Logger = s.log.With("part", "sagemaker-emulator")
	if cfg.Emulator != nil {
		cfg.Emulator(&opts)
	}
	emu, err := emulator.New(opts)
	if err != nil {
		return err
	}
	url, err := emu.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	s.onClose(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		emu.Close(ctx)
	})
	s.Emulator, s.SageMakerURL = emu, url
	return nil
}

// startFunctions runs each function's host bootstrap under its own
// aws-lambda-rie, with the template's environment resolved to the local
// parts and the SDK pointed at them through AWS_ENDPOINT_URL_*.
func (s *Stack) startFunctions(ctx context.Context, cfg Config) error {
	riePath, err := rie.Find()
	if err != nil {
		return err
	}
	for _, id := range s.template.OfType("AWS::Lambda::Function") {
		r := s.template.Resources[id]
		name := r.FunctionName()
		if name == "" {
			return fmt.Errorf("function %s has no %s tag", id, functionTag)
		}
		env, err := s.functionEnv(r, cfg)
		if err != nil {
			return fmt.Errorf("function %s: %w", name, err)
		}
		spec := rie.Spec{
			Bootstrap: filepath.Join(cfg.BinDir, name, "bootstrap"),
			Name:      name,
			Env:       env,
			Timeout:   time.Duration(r.number("Timeout", 3)) * time.Second,
			Log:       s.functionLog(name),
			// Only the function's own lines and RIE's START, END and
			// REPORT, as Lambda shows them, not RIE's internals.
			RIELogLevel: "warn",
		}
		s.specs[name] = spec
		fn, err := rie.Start(ctx, riePath, spec)
		if err != nil {
			return fmt.Errorf("function %s (run `make build` first): %w", name, err)
		}
		s.onClose(fn.Stop)
		s.Functions[name] = fn
		s.FunctionEnv[name] = env
		s.Lambdas.Register(name, fn)
		s.physical.set(id, "", name)
		s.physical.set(id, "Arn", FunctionARN(name))
	}
	return nil
}

// functionLog is where a function's output streams, or nil.
func (s *Stack) functionLog(name string) io.Writer {
	if s.lines == nil {
		return nil
	}
	return s.lines.Writer(name)
}

// baseEnv is what every local function's environment starts with: local
// credentials, and the SDK pointed at the local parts through
// AWS_ENDPOINT_URL_*, so function code has no local mode.
func (s *Stack) baseEnv() []string {
	return append(localaws.Env(),
		"AWS_ENDPOINT_URL="+s.MotoURL, // SQS, EventBridge and the services the cleaners call
		"AWS_ENDPOINT_URL_SAGEMAKER="+s.SageMakerURL,
		"AWS_ENDPOINT_URL_DYNAMODB="+s.DynamoDBURL,
		"AWS_ENDPOINT_URL_LAMBDA="+s.LambdaURL,
		"AWS_ENDPOINT_URL_GLUE="+s.GlueURL,
	)
}

// withOverrides adds Config.Env, which wins over what came before.
func withOverrides(env []string, cfg Config) []string {
	for k, v := range cfg.Env {
		env = append(env, k+"="+v)
	}
	return env
}

func (s *Stack) functionEnv(r Resource, cfg Config) ([]string, error) {
	env := s.baseEnv()
	// The log level Lambda's advanced logging controls would set.
	if lc, ok := r.Properties["LoggingConfig"].(map[string]any); ok {
		if level, ok := lc["ApplicationLogLevel"].(string); ok {
			env = append(env, "AWS_LAMBDA_LOG_LEVEL="+level)
		}
	}
	vars, _ := r.Properties["Environment"].(map[string]any)
	variables, _ := vars["Variables"].(map[string]any)
	for k, v := range variables {
		val, err := s.physical.resolve(v)
		if err != nil {
			return nil, fmt.Errorf("environment variable %s: %w", k, err)
		}
		env = append(env, k+"="+val)
	}
	return withOverrides(env, cfg), nil
}

// startPollers runs each AWS::Lambda::EventSourceMapping as an SQS poller.
func (s *Stack) startPollers(_ context.Context, run context.Context, cfg Config) error {
	for _, id := range s.template.OfType("AWS::Lambda::EventSourceMapping") {
		r := s.template.Resources[id]
		queueID := refersTo(r.Properties["EventSourceArn"])
		url, ok := s.Queues[queueID]
		if !ok {
			return fmt.Errorf("mapping %s: its source %s is not a local queue", id, queueID)
		}
		fnName, err := s.physical.resolve(r.Properties["FunctionName"])
		if err != nil {
			return fmt.Errorf("mapping %s: %w", id, err)
		}
		concurrency := s.pollerConcurrency(r, fnName, cfg)
		s.PollerConcurrency[fnName] = concurrency
		var fn sqspoller.Invoker = s.Functions[fnName]
		if concurrency > 1 {
			// Lambda runs each concurrent batch in an execution environment
			// of its own: instances start on demand, cold, up to the
			// concurrency, beside the one the Invoke API uses.
			riePath, err := rie.Find()
			if err != nil {
				return err
			}
			pool := rie.NewPool(riePath, s.specs[fnName], concurrency)
			s.onClose(pool.Stop)
			fn = pool
		}
		types, _ := r.Properties["FunctionResponseTypes"].([]any)
		arn, _ := s.physical.attr(queueID, "Arn")
		p := sqspoller.New(cfg.Hooks.pollerSQS(queueID, fnName, s.sqsClient()), sqspoller.Config{
			QueueURL:                url,
			QueueARN:                arn,
			BatchSize:               int32(r.number("BatchSize", 10)),
			ReportBatchItemFailures: len(types) == 1 && types[0] == "ReportBatchItemFailures",
			Concurrency:             concurrency,
		}, cfg.Hooks.pollerInvoke(queueID, fnName, fn), s.log.With("poller", fnName))
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := p.Run(run); err != nil {
				s.log.Error("poller stopped", "function", fnName, "error", err.Error())
			}
		}()
	}
	return nil
}

// lambdaSQSBatches is how many batches of a standard queue Lambda invokes
// at once when messages are there: "Lambda starts processing five batches
// at a time with five concurrent invocations of your function" (Configuring
// scaling behavior for SQS event source mappings). It scales further under
// a backlog, which the local stack leaves out.
const lambdaSQSBatches = 5

// pollerConcurrency is Config.PollerConcurrency, or what Lambda does
// (Template.PollerConcurrency).
func (s *Stack) pollerConcurrency(mapping Resource, fnName string, cfg Config) int {
	if cfg.PollerConcurrency > 0 {
		return cfg.PollerConcurrency
	}
	return s.template.pollerConcurrency(mapping, fnName)
}

// PollerConcurrency is how many batches Lambda invokes at once of the
// function the queue of an event-source mapping feeds (0 when none does).
func (t *Template) PollerConcurrency(fnName string) int {
	for _, id := range t.OfType("AWS::Lambda::EventSourceMapping") {
		m := t.Resources[id]
		if ref := refersTo(m.Properties["FunctionName"]); ref != "" && t.Resources[ref].FunctionName() == fnName {
			return t.pollerConcurrency(m, fnName)
		}
	}
	return 0
}

// pollerConcurrency: Lambda's five, or the mapping's
// ScalingConfig.MaximumConcurrency, and never more than the function's
// reserved concurrency.
func (t *Template) pollerConcurrency(mapping Resource, fnName string) int {
	n := lambdaSQSBatches
	if sc, ok := mapping.Properties["ScalingConfig"].(map[string]any); ok {
		if m, ok := sc["MaximumConcurrency"].(float64); ok && m >= 1 {
			n = int(m)
		}
	}
	for _, id := range t.OfType("AWS::Lambda::Function") {
		if fn := t.Resources[id]; fn.FunctionName() == fnName {
			if reserved := int(fn.number("ReservedConcurrentExecutions", 0)); reserved > 0 {
				n = min(n, reserved)
			}
		}
	}
	return n
}

func (s *Stack) sqsClient() *sqs.Client {
	return sqs.NewFromConfig(s.AWS, func(o *sqs.Options) { o.BaseEndpoint = aws.String(s.MotoURL) })
}

func (s *Stack) eventsClient() *eventbridge.Client {
	return eventbridge.NewFromConfig(s.AWS, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(s.MotoURL) })
}

// SageMakerClient is a client of the emulator.
func (s *Stack) SageMakerClient() *sagemaker.Client {
	return sagemaker.NewFromConfig(s.AWS, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(s.SageMakerURL) })
}

// DynamoDBClient is a client of DynamoDB Local.
func (s *Stack) DynamoDBClient() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.AWS, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(s.DynamoDBURL)
		o.DisableValidateResponseChecksum = true
	})
}

// SQSClient is a client of moto's SQS.
func (s *Stack) SQSClient() *sqs.Client { return s.sqsClient() }

// Output resolves one of the template's outputs locally.
func (s *Stack) Output(name string) (string, error) {
	o, ok := s.template.Outputs[name]
	if !ok {
		return "", fmt.Errorf("no output %s", name)
	}
	return s.physical.resolve(o.Value)
}

func (s *Stack) startGateway(cfg Config) error {
	g := newGateway(cfg, s.log)
	integrations := map[string]Invoker{}
	for _, id := range s.template.OfType("AWS::ApiGatewayV2::Integration") {
		fnName, err := s.physical.resolve(s.template.Resources[id].Properties["IntegrationUri"])
		if err != nil {
			return fmt.Errorf("integration %s: %w", id, err)
		}
		fnName = fnName[strings.LastIndex(fnName, ":")+1:]
		fn, ok := s.Functions[fnName]
		if !ok {
			return fmt.Errorf("integration %s: no function %s", id, fnName)
		}
		integrations[id] = fn
	}
	for _, id := range s.template.OfType("AWS::ApiGatewayV2::Route") {
		props := s.template.Resources[id].Properties
		key, _ := props["RouteKey"].(string)
		fn, ok := integrations[refersTo(props["Target"])]
		if !ok {
			return fmt.Errorf("route %s has no local integration", key)
		}
		g.routes = append(g.routes, newRoute(key, fn))
	}
	addr := cfg.GatewayAddr
	if addr == "" {
		addr = "127.0.0.1:3000"
	}
	srv, err := listen(addr, g)
	if err != nil {
		return err
	}
	s.onClose(srv.close)
	s.GatewayURL = srv.url
	s.physical.set("gateway", "", srv.url)
	for _, id := range s.template.OfType("AWS::ApiGatewayV2::Api") {
		s.physical.set(id, "ApiEndpoint", srv.url)
		s.physical.set(id, "", "local")
	}
	return nil
}

type server struct {
	url   string
	close func()
}

func listen(addr string, h http.Handler) (*server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return &server{url: "http://" + l.Addr().String(), close: func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}}, nil
}
