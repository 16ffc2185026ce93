package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sqspoller"
	"github.com/stopcoord/stopcoord/local/stack"
	"github.com/stopcoord/stopcoord/local/stopshare"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/workerkit"
)

const (
	account               = "123456789012"
	glueJob               = "chaos-features"
	cleanupFunction       = "chaos-cleanup"
	brokenCleanupFunction = "chaos-cleanup-broken"
	callbackFunction      = "callback"
)

// chaos is one run.
type chaos struct {
	opts  options
	out   io.Writer
	rng   *rand.Rand // the workload's choices; only the main goroutine draws
	begin time.Time

	st                       *stack.Stack
	sm, smWorker             *sagemaker.Client
	sfn                      *sfn.Client
	glue                     *glue.Client
	sqs                      *sqs.Client
	events                   *eventbridge.Client
	stopRequestBus           string // where Stop Requested events go (the stack's output)
	ledger                   *ledger.Ledger
	kit                      *workerkit.Client
	front                    *sageMakerFront
	jobs                     *fakeJobs
	cleanup, brokenCleanupFn *cleanupLambda
	steps                    *lambdaSteps
	workers                  *workers
	watch                    *batchWatch
	queues                   map[string]*duplicatingSQS // queue logical id -> its poller's accounts
	callbackQueue, workQueue string
	stateMachine             string
	abandonAt                int
	execs                    []*execution
	firedAt                  time.Time
	randMu                   sync.Mutex
	sleepRng                 *rand.Rand

	// The taps that cut each callback step's stop into its hops
	// (local/stopshare): when the stop reached SageMaker, when SageMaker's
	// Stopping message was in the queue and when it was first handed to
	// the callback function.
	smTap  *stopshare.SageMakerTap
	sqsTap *stopshare.SQSTap

	mu        sync.Mutex
	byARN     map[string]*execution
	stopAt    map[string]time.Time // execution ARN -> when its stop was asked for (harness-side triggers)
	faultLog  []string
	logErrors *errorCounter
	problems  []string // the harness's own failures: they fail the run too
}

func (c *chaos) run(ctx context.Context) (err error) {
	c.begin = time.Now()
	c.rng = rand.New(rand.NewSource(c.opts.seed))
	c.sleepRng = rand.New(rand.NewSource(c.opts.seed + 1))
	c.byARN, c.stopAt = map[string]*execution{}, map[string]time.Time{}
	c.queues = map[string]*duplicatingSQS{}
	fmt.Fprintf(c.out, "stopcoord chaos: %d executions, seed %d (replay: make chaos N=%d SEED=%d)\n", c.opts.n, c.opts.seed, c.opts.n, c.opts.seed)
	fmt.Fprintf(c.out, "faults: %s\n", c.describeFaults())
	if err := becomeSubreaper(); err != nil {
		return err
	}
	if err := checkTemplate(c.opts.template); err != nil {
		return err
	}
	rep := &report{c: c}
	closeAll, err := c.startStack(ctx)
	if err != nil {
		closeAll()
		return err
	}
	runErr := c.workload(ctx, rep)
	if runErr == nil {
		rep.collect(ctx)
	}
	if c.logErrors != nil {
		// Deliveries canceled by the shutdown below are a backlog, not a loss.
		rep.lostEvents = c.logErrors.lostEvents()
	}
	closeAll()
	rep.processes()
	rep.print(c.out)
	if runErr != nil {
		return fmt.Errorf("%w (seed %d)", runErr, c.opts.seed)
	}
	if n := rep.violations(); n > 0 {
		return fmt.Errorf("%d invariant violations (seed %d; replay: make chaos N=%d SEED=%d)", n, c.opts.seed, c.opts.n, c.opts.seed)
	}
	fmt.Fprintf(c.out, "\nevery invariant held; chaos run finished in %s\n", time.Since(c.begin).Round(time.Second))
	return nil
}

func (c *chaos) describeFaults() string {
	f := c.opts.faults
	var on []string
	if f.sageMakerRate > 0 {
		on = append(on, fmt.Sprintf("SageMaker throttling+5xx %.0f%%", 100*f.sageMakerRate))
	}
	if f.dupCallbacks > 0 {
		on = append(on, fmt.Sprintf("callback redelivery %.0f%%", 100*f.dupCallbacks))
	}
	if f.dupEvents > 0 || f.reorderEvents > 0 {
		on = append(on, fmt.Sprintf("events duplicated %.0f%% / reordered %.0f%%", 100*f.dupEvents, 100*f.reorderEvents))
	}
	if f.dropStopping > 0 {
		on = append(on, fmt.Sprintf("Stopping messages dropped for %.0f%% of executions", 100*f.dropStopping))
	}
	if f.loseMessages > 0 {
		on = append(on, fmt.Sprintf("%d Stopping messages lost between the callback queue and its function", f.loseMessages))
	}
	if f.kill {
		on = append(on, "callback function killed mid-batch")
	}
	if f.pauseDynamoDB > 0 {
		on = append(on, "DynamoDB Local paused "+f.pauseDynamoDB.String())
	}
	if f.lateRegister {
		on = append(on, "late registration")
	}
	if f.flakyCleanup > 0 {
		on = append(on, fmt.Sprintf("cleanup Lambda fails %dx", f.flakyCleanup))
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ", ")
}

// checkTemplate makes sure the template was synthesized with the chaos
// context: without its policies and scheduled stop, three triggers would
// never fire and the run would report them as stopcoord's failures.
func checkTemplate(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read the template (make chaos synthesizes it): %w", err)
	}
	s := string(b)
	if !strings.Contains(s, "chaos-maxrt") || !strings.Contains(s, "chaos-nightly") {
		return fmt.Errorf("%s was not synthesized with the chaos context (policies for chaos-maxrt and chaos-failfast, a scheduled stop of chaos-nightly): run make chaos", path)
	}
	return nil
}

// startStack starts the fakes, the local stack with the faults wired in,
// and the clients. The returned function stops all of it.
func (c *chaos) startStack(ctx context.Context) (func(), error) {
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		closers = nil
	}
	f := c.opts.faults
	c.jobs = newFakeJobs()
	dice := &faultDice{rng: rand.New(rand.NewSource(c.opts.seed + 2)), throttle: f.sageMakerRate / 2, internal: f.sageMakerRate / 2}
	c.front = newSageMakerFront(c.jobs, dice)
	// The tap stands outside the front, so it sees what SageMaker (the
	// emulator, with its injected throttling) answered to each stop.
	c.smTap = stopshare.NewSageMakerTapHandler()
	front := httptest.NewServer(c.smTap.Wrap(c.front))
	closers = append(closers, front.Close)
	fakes := httptest.NewServer(fakeServices{jobs: c.jobs})
	closers = append(closers, fakes.Close)
	c.steps = &lambdaSteps{c: c, done: make(chan struct{}), seen: map[string]time.Time{}}
	steps := httptest.NewServer(c.steps)
	closers = append(closers, func() { close(c.steps.done); steps.Close() })

	dir, err := os.MkdirTemp("", "stopcoord-chaos-")
	if err != nil {
		return closeAll, err
	}
	closers = append(closers, func() { os.RemoveAll(dir) })
	level := slog.LevelError + 4 // the faults make the parts log errors by design
	if c.opts.verbose {
		level = slog.LevelInfo
	}
	c.logErrors = newErrorCounter(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	logger := slog.New(c.logErrors)

	hooks := &stack.Hooks{
		PollerSQS: func(queueID, fn string, client sqspoller.SQSAPI) sqspoller.SQSAPI {
			rate := 0.0
			if fn == callbackFunction {
				rate = f.dupCallbacks
			}
			d := newDuplicatingSQS(client, queueID, rate, c.opts.seed+3)
			if fn == callbackFunction {
				d.lose = f.loseMessages
			}
			c.mu.Lock()
			c.queues[queueID] = d
			c.mu.Unlock()
			return d
		},
		PollerInvoke: func(queueID, fn string, inv sqspoller.Invoker) sqspoller.Invoker {
			inv = &recordingInvoker{next: inv, accounts: func() *duplicatingSQS {
				c.mu.Lock()
				defer c.mu.Unlock()
				return c.queues[queueID]
			}}
			if fn != callbackFunction {
				return inv
			}
			c.watch = &batchWatch{next: inv, bootstrap: filepath.Join(c.opts.bin, fn, "bootstrap"), c: c}
			if c.sqsTap == nil {
				return c.watch
			}
			// Outermost: what the poller handed over after the injected
			// duplicates and losses, before a kill can cut the batch short.
			return c.sqsTap.Invoker(c.watch)
		},
	}
	// The emulator's own SQS and EventBridge clients retry longer than the
	// SDK's default 3 attempts: under load moto fails some PutEvents calls,
	// and an event lost there would be the local plumbing's loss, not
	// stopcoord's. (What is still lost is counted in the report.)
	emuCfg, err := localaws.Config(ctx)
	if err != nil {
		return closeAll, err
	}
	emuCfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 8; o.MaxBackoff = 2 * time.Second })
	}
	faults := map[string]emulator.Fault{}
	if f.sageMakerRate > 0 {
		faults["*"] = emulator.Fault{ThrottleRate: f.sageMakerRate / 2, ServerErrorRate: f.sageMakerRate / 2}
	}
	var functionLogs io.Writer
	if c.opts.functionLogs != "" {
		fl, err := os.Create(c.opts.functionLogs)
		if err != nil {
			return closeAll, fmt.Errorf("-function-logs: %w", err)
		}
		closers = append(closers, func() { fl.Close() })
		functionLogs = fl
	}
	var tapErr error
	closers = append(closers, func() { // after the stack: the emulator sends through it
		if c.sqsTap != nil {
			c.sqsTap.Close()
		}
	})
	st, err := stack.Start(ctx, stack.Config{
		Template: c.opts.template, BinDir: c.opts.bin, GatewayAddr: "127.0.0.1:0",
		FunctionLogs:  functionLogs,
		ScheduleEvery: 5 * time.Second, // the sweeper and the scheduled stop, sped up
		Logger:        logger,
		Hooks:         hooks,
		// One instance per function: the kill fault finds the callback
		// function by its one process.
		PollerConcurrency: 1,
		Env: map[string]string{
			"AWS_ENDPOINT_URL_SAGEMAKER": front.URL,
			"AWS_ENDPOINT_URL_BATCH":     fakes.URL,
			"AWS_ENDPOINT_URL_ECS":       fakes.URL,
			// Cleanup retries 1 s, 2 s, ... instead of minutes, so a run
			// takes minutes.
			"STOPCOORD_CLEANUP_RETRY_BASE": "1s",
		},
		Emulator: func(o *emulator.Options) {
			o.Seed = c.opts.seed
			o.AWSConfig = &emuCfg
			o.Faults = faults
			o.Switches.DuplicateEvents = f.dupEvents
			o.Switches.ReorderEvents = f.reorderEvents
			o.Switches.DropStoppingMessage = f.dropStopping
			o.StopDelay = 500 * time.Millisecond
			o.MaxRunningExecutions = c.opts.n + 50
			o.EventsFile = filepath.Join(dir, "sagemaker-events.jsonl")
			o.Lambda[lambdaARN(lambdaFinish)] = emulator.LambdaEndpoint{URL: steps.URL + "/" + lambdaFinish}
			o.Lambda[lambdaARN(lambdaTimeout)] = emulator.LambdaEndpoint{URL: steps.URL + "/" + lambdaTimeout}
			// SageMaker's callback messages go through the tap to moto.
			if c.sqsTap, tapErr = stopshare.NewSQSTap(o.SQSEndpoint); tapErr == nil {
				o.SQSEndpoint = c.sqsTap.URL()
			}
		},
	})
	if err != nil {
		return closeAll, err
	}
	c.st = st
	closers = append(closers, st.Close)
	if tapErr != nil {
		// The tap only feeds a report line: the run goes on without it.
		fmt.Fprintf(c.out, "the SQS tap did not start (%v): stopcoord's share of the stops is not measured\n", tapErr)
	}
	c.front.target.Store(st.SageMakerURL)
	fmt.Fprintf(c.out, "local stack up in %s: HTTP API %s, SageMaker emulator %s (behind the run's recorder %s)\n",
		time.Since(c.begin).Round(time.Millisecond), st.GatewayURL, st.SageMakerURL, front.URL)

	cfg := st.AWS.Copy()
	cfg.RetryMaxAttempts = 10  // the harness rides out the faults it injects
	cfg.Logger = logging.Nop{} // and its report says what went wrong
	c.sm = sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(front.URL) })
	workerCfg := cfg.Copy()
	workerCfg.AppID = "chaos-worker"
	c.smWorker = sagemaker.NewFromConfig(workerCfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(front.URL) })
	c.sqs = sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(st.MotoURL) })
	c.sfn = sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = aws.String(st.MotoURL) })
	c.glue = glue.NewFromConfig(cfg, func(o *glue.Options) { o.BaseEndpoint = aws.String(st.GlueURL) })
	c.events = eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(st.MotoURL) })
	table, err := st.Output("LedgerTableName")
	if err != nil {
		return closeAll, err
	}
	c.ledger = ledger.New(st.DynamoDBClient(), table)
	if c.kit, err = workerkit.NewWithConfig(st.GatewayURL, st.AWS, nil); err != nil {
		return closeAll, err
	}
	if c.callbackQueue, err = st.Output("CallbackQueueUrl"); err != nil {
		return closeAll, err
	}
	if c.stopRequestBus, err = st.Output("StopRequestBusName"); err != nil {
		return closeAll, err
	}
	c.cleanup = newCleanupLambda(f.flakyCleanup, false)
	c.brokenCleanupFn = newCleanupLambda(0, true)
	st.Lambdas.Register(cleanupFunction, c.cleanup)
	st.Lambdas.Register(brokenCleanupFunction, c.brokenCleanupFn)
	return closeAll, nil
}

// setup creates what the workers use and the pipelines.
func (c *chaos) setup(ctx context.Context, all []script) error {
	work, err := c.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("chaos-work")})
	if err != nil {
		return fmt.Errorf("create the work queue: %w", err)
	}
	c.workQueue = aws.ToString(work.QueueUrl)
	sm, err := c.sfn.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String("chaos-etl"),
		Definition: aws.String(`{"StartAt":"Work","States":{"Work":{"Type":"Wait","Seconds":3600,"End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::" + account + ":role/chaos-sfn"),
	})
	if err != nil {
		return fmt.Errorf("create the state machine: %w", err)
	}
	c.stateMachine = aws.ToString(sm.StateMachineArn)
	if _, err := c.glue.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String(glueJob), Role: aws.String("arn:aws:iam::" + account + ":role/chaos-glue"),
		Command:           &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://chaos/features.py")},
		ExecutionProperty: &gluetypes.ExecutionProperty{MaxConcurrentRuns: int32(c.opts.n)}}); err != nil {
		return fmt.Errorf("create the glue job: %w", err)
	}
	for _, s := range all {
		if _, err := c.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{
			PipelineName: aws.String(s.pipeline), PipelineDefinition: aws.String(c.definition(s)),
			RoleArn:            aws.String("arn:aws:iam::" + account + ":role/chaos"),
			ClientRequestToken: aws.String(pipeline.RequestToken("chaos-create", s.pipeline)),
		}); err != nil {
			return fmt.Errorf("create pipeline %s: %w", s.pipeline, err)
		}
	}
	return nil
}

// workload runs the executions, fires the stops with the faults, and waits
// for every execution to end.
func (c *chaos) workload(ctx context.Context, rep *report) error {
	all, err := pick(scripts(c.opts.faults), c.opts.only)
	if err != nil {
		return err
	}
	c.execs = plan(c.opts.n, all, c.rng)
	c.abandonAt = -1
	if c.opts.faults.abandonCleanups {
		for _, x := range c.execs {
			if x.script.trigger == trigGraceful && x.script.lambda == "" && !x.script.late {
				c.abandonAt = x.i
				break
			}
		}
	}
	if err := c.setup(ctx, all); err != nil {
		return err
	}
	c.workers = &workers{c: c, by: map[string]*work{}}
	workCtx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.workers.run(workCtx) }()
	defer func() { stopWorkers(); wg.Wait() }()

	if err := c.startExecutions(ctx); err != nil {
		return err
	}
	c.waitReady(ctx)
	c.fire(ctx)
	c.waitEnded(ctx)
	return ctx.Err()
}

func (c *chaos) startExecutions(ctx context.Context) error {
	counts := map[string]int{}
	for _, x := range c.execs {
		counts[x.script.name]++
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %d", n, counts[n]))
	}
	fmt.Fprintf(c.out, "workload: %s\n", strings.Join(parts, ", "))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	errs := make(chan error, len(c.execs))
	for _, x := range c.execs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out, err := c.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{
				PipelineName:       aws.String(x.script.pipeline),
				ClientRequestToken: aws.String(pipeline.RequestToken("chaos-start", fmt.Sprint(c.opts.seed), fmt.Sprint(x.i))),
			})
			if err != nil {
				errs <- fmt.Errorf("start execution %d (%s): %w", x.i, x.script.name, err)
				return
			}
			c.mu.Lock()
			x.arn = aws.ToString(out.PipelineExecutionArn)
			c.byARN[x.arn] = x
			c.mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	fmt.Fprintf(c.out, "%d executions started in %s\n", len(c.execs), time.Since(c.begin).Round(time.Millisecond))
	return nil
}

// waitReady waits until every execution a stop is fired at has its
// callback steps handed to workers and their resources registered, and
// its Lambda step running; those stopped by the sweeper or a schedule are
// not waited for. Whatever is not ready by the deadline is stopped anyway.
func (c *chaos) waitReady(ctx context.Context) {
	deadline := time.Now().Add(90*time.Second + time.Duration(c.opts.n)*300*time.Millisecond)
	for {
		notReady := 0
		for _, x := range c.execs {
			switch x.script.trigger {
			case trigScheduled, trigMaxRuntime, trigFailFast, trigNone:
				continue
			}
			if c.workers.doneFor(x.arn) < x.script.callbacks || (x.script.lambda != "" && !c.steps.invoked(x.arn)) {
				notReady++
			}
		}
		if notReady == 0 {
			fmt.Fprintf(c.out, "every execution is running with its work registered (+%s)\n", c.since())
			return
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			fmt.Fprintf(c.out, "%d executions not ready by the deadline; stopping them anyway (+%s)\n", notReady, c.since())
			return
		}
		c.sleep(ctx, 250*time.Millisecond)
	}
}

// waitEnded waits until every execution has ended, or the settle time is up.
func (c *chaos) waitEnded(ctx context.Context) {
	deadline := time.Now().Add(c.opts.settle)
	open := map[string]bool{}
	for _, x := range c.execs {
		open[x.arn] = true
	}
	for len(open) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		for arn := range open {
			out, err := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
			if err == nil && pipeline.ExecutionStatus(out.PipelineExecutionStatus).Terminal() {
				delete(open, arn)
			}
		}
		if len(open) > 0 {
			c.sleep(ctx, time.Second)
		}
	}
	if len(open) > 0 {
		fmt.Fprintf(c.out, "%d executions still not ended %s after the stops (+%s)\n", len(open), c.opts.settle, c.since())
	} else {
		fmt.Fprintf(c.out, "every execution ended (+%s)\n", c.since())
	}
}

func (c *chaos) waitExecution(ctx context.Context, arn string) *execution {
	for i := 0; i < 600 && ctx.Err() == nil; i++ {
		c.mu.Lock()
		x := c.byARN[arn]
		c.mu.Unlock()
		if x != nil {
			return x
		}
		c.sleep(ctx, 50*time.Millisecond)
	}
	return nil
}

func (c *chaos) waitStopping(ctx context.Context, arn string, max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		out, err := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
		if err == nil && out.PipelineExecutionStatus != "Executing" {
			return
		}
		c.sleep(ctx, 300*time.Millisecond)
	}
}

func (c *chaos) sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (c *chaos) sleepRand(ctx context.Context, max time.Duration) {
	c.randMu.Lock()
	d := time.Duration(c.sleepRng.Int63n(int64(max)))
	c.randMu.Unlock()
	c.sleep(ctx, d)
}

func (c *chaos) since() string { return time.Since(c.begin).Round(100 * time.Millisecond).String() }

// faultf notes an injected fault in the run's log.
func (c *chaos) faultf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faultLog = append(c.faultLog, fmt.Sprintf("+%-8s %s", c.since(), fmt.Sprintf(format, args...)))
}

// harnessProblem records a failure of the harness itself; it fails the run
// as a violation would, so a broken harness cannot pass.
func (c *chaos) harnessProblem(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *chaos) markStop(arn string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.stopAt[arn]; !ok {
		c.stopAt[arn] = at
	}
}

// postJSON posts a body to the local HTTP API, retrying 429, 5xx and
// connection errors with the same Idempotency-Key, as a client should.
func (c *chaos) postJSON(ctx context.Context, path, key string, body any) (int, string) {
	b, _ := json.Marshal(body)
	status, text := 0, ""
	for attempt := 0; attempt < 10 && ctx.Err() == nil; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.st.GatewayURL+path, strings.NewReader(string(b)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, text = resp.StatusCode, string(out)
			if status != http.StatusTooManyRequests && status < 500 {
				return status, text
			}
		} else {
			status, text = 0, err.Error()
		}
		c.sleep(ctx, time.Duration(200<<min(attempt, 4))*time.Millisecond)
	}
	return status, text
}
