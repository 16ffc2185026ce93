package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sqspoller"
	"github.com/stopcoord/stopcoord/local/stack"
	"github.com/stopcoord/stopcoord/local/stopshare"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

const (
	account          = "123456789012"
	scoreFunction    = "arn:aws:lambda:us-east-1:" + account + ":function:demo-score"
	callbackFunction = "callback" // the function the callback queue feeds
	cleanupFn        = "arn:aws:lambda:us-east-1:" + account + ":function:demo-cleanup"
	pipelineName     = "demo-training"
)

type demo struct {
	out                      io.Writer
	template, bin, gateway   string
	verbose                  bool
	warmRounds               int // the ledger's warm-up before the stop; 0 for none
	st                       *stack.Stack
	sm                       *sagemaker.Client
	sfn                      *sfn.Client
	glue                     *glue.Client
	sqs                      *sqs.Client
	ledger                   *ledger.Ledger
	tap                      *stopshare.SQSTap       // between SageMaker and SQS: when each callback message was sent, and delivered
	smTap                    *stopshare.SageMakerTap // between the functions and SageMaker: when the stop reached SageMaker
	workQueue                string
	registered               sync.Map // step name -> resource
	cleanupCalls, scoreCalls atomic.Int64
	cleanupFirst             atomic.Int64 // unix nanoseconds of the cleanup Lambda's first call
	// mu guards what the worker goroutine writes and others read.
	mu                      sync.Mutex
	sfnExecution, glueRunID string
	failures                []string
}

func (d *demo) run(ctx context.Context) error {
	fmt.Fprintln(d.out, "stopcoord demo: a pipeline with a training step, three callback steps and a Lambda step, stopped with one HTTP call")
	begin := time.Now()
	score := httptest.NewServer(http.HandlerFunc(d.scoreStep))
	defer score.Close()
	dir, err := os.MkdirTemp("", "stopcoord-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	var tapErr error
	defer func() {
		if d.tap != nil {
			d.tap.Close() // after the stack, whose emulator sends through it
		}
	}()
	level := slog.LevelError
	var functionLogs io.Writer // -v: every function's lines too, for where a stop's time goes
	if d.verbose {
		level = slog.LevelInfo
		functionLogs = os.Stderr
	}
	d.smTap = stopshare.NewSageMakerTap()
	defer d.smTap.Close()
	d.st, err = stack.Start(ctx, stack.Config{
		// The functions reach SageMaker through the tap.
		Env: map[string]string{"AWS_ENDPOINT_URL_SAGEMAKER": d.smTap.URL()},
		Hooks: &stack.Hooks{PollerInvoke: func(_, fn string, inv sqspoller.Invoker) sqspoller.Invoker {
			if fn != callbackFunction || d.tap == nil {
				return inv
			}
			return d.tap.Invoker(inv)
		}},
		Template: d.template, BinDir: d.bin, GatewayAddr: d.gateway,
		ScheduleEvery: 5 * time.Second, // the sweeper, sped up
		FunctionLogs:  functionLogs,
		Logger:        slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Emulator: func(o *emulator.Options) {
			o.JobDuration = time.Hour // the training job runs until it is stopped
			o.StopDelay = time.Second // and takes a moment to stop, as SageMaker's do
			o.EventsFile = filepath.Join(dir, "sagemaker-events.jsonl")
			o.Lambda[scoreFunction] = emulator.LambdaEndpoint{URL: score.URL}
			if d.tap, tapErr = stopshare.NewSQSTap(o.SQSEndpoint); tapErr == nil {
				o.SQSEndpoint = d.tap.URL()
			}
		},
	})
	if err != nil {
		return err
	}
	defer d.st.Close()
	if tapErr != nil {
		return tapErr
	}
	if err := d.smTap.SetTarget(d.st.SageMakerURL); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "local stack up in %s: HTTP API %s, SageMaker emulator %s\n", time.Since(begin).Round(time.Millisecond), d.st.GatewayURL, d.st.SageMakerURL)

	d.sm = d.st.SageMakerClient()
	d.sqs = d.st.SQSClient()
	d.sfn = sfn.NewFromConfig(d.st.AWS, func(o *sfn.Options) { o.BaseEndpoint = aws.String(d.st.MotoURL) })
	d.glue = glue.NewFromConfig(d.st.AWS, func(o *glue.Options) { o.BaseEndpoint = aws.String(d.st.GlueURL) })
	table, err := d.st.Output("LedgerTableName")
	if err != nil {
		return err
	}
	d.ledger = ledger.New(d.st.DynamoDBClient(), table)
	d.st.Lambdas.Register("demo-cleanup", invoker(d.cleanupLambda))

	if d.warmRounds > 0 {
		if err := d.warmLedger(ctx, d.warmRounds, 4); err != nil {
			return err
		}
	}
	arn, err := d.startPipeline(ctx)
	if err != nil {
		return err
	}
	if err := d.waitUntilRunning(ctx, arn); err != nil {
		return err
	}
	w := newWatcher(d, arn)
	go w.run(ctx)

	stopAt := time.Now()
	w.note(stopAt, "stop requested: POST /stops")
	status, body, err := d.postStop(ctx, arn)
	if err != nil {
		return err
	}
	w.note(time.Now(), fmt.Sprintf("POST /stops answered %d", status))
	if status != http.StatusAccepted {
		return fmt.Errorf("POST /stops answered %d: %s", status, body)
	}
	stoppedAt, err := w.waitTerminal(ctx)
	if err != nil {
		w.records(ctx)
		w.print(d.out, stopAt)
		return err
	}
	// The stop closes when SageMaker's Stopped event has come through
	// EventBridge to status-events: wait for it, with a bound against a
	// stop that never closes (which the checks then report), not a tight
	// deadline that a busy machine misses (3 s did, at a load of 12).
	w.settle(ctx, procs.Scaled(30*time.Second))
	w.print(d.out, stopAt)
	d.check(ctx, arn)
	d.report(ctx, arn, stopAt, stoppedAt, w)
	if failures := d.failed(); len(failures) > 0 {
		return fmt.Errorf("%d checks failed:\n  - %s", len(failures), strings.Join(failures, "\n  - "))
	}
	fmt.Fprintf(d.out, "\nall checks passed; demo finished in %s\n", time.Since(begin).Round(time.Millisecond))
	return nil
}

// startPipeline creates the demo pipeline and the resources its workers
// will start, and starts an execution.
func (d *demo) startPipeline(ctx context.Context) (string, error) {
	callbackQueue, err := d.st.Output("CallbackQueueUrl")
	if err != nil {
		return "", err
	}
	work, err := d.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("demo-work")})
	if err != nil {
		return "", err
	}
	d.workQueue = aws.ToString(work.QueueUrl)
	go d.worker(ctx)

	callback := func(name, job string, extra string) string {
		return fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":{"job":%q,"stopcoord_worker_queue":%q%s},"OutputParameters":[{"OutputName":"result","OutputType":"String"}]}`,
			name, callbackQueue, job, d.workQueue, extra)
	}
	definition := `{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.Join([]string{
		`{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"demo:latest","TrainingInputMode":"File"}}}`,
		callback("StartStateMachine", "sfn", ""),
		callback("StartGlueJob", "glue", ""),
		callback("RunExternalJob", "external", fmt.Sprintf(`,"stopcoord_cleanup_lambda":%q`, cleanupFn)),
		fmt.Sprintf(`{"Name":"Score","Type":"Lambda","FunctionArn":%q,"Timeout":120,"Arguments":{"executionArn":{"Get":"Execution.PipelineExecutionArn"}},"OutputParameters":[{"OutputName":"score","OutputType":"String"}]}`, scoreFunction),
	}, ",") + `]}`
	if _, err := d.sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{
		PipelineName: aws.String(pipelineName), PipelineDefinition: aws.String(definition),
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/demo"), ClientRequestToken: aws.String(pipeline.RequestToken("demo-create", pipelineName)),
	}); err != nil {
		return "", fmt.Errorf("create pipeline: %w", err)
	}
	out, err := d.sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{
		PipelineName: aws.String(pipelineName), ClientRequestToken: aws.String(pipeline.RequestToken("demo-start", pipelineName, time.Now().String())),
	})
	if err != nil {
		return "", fmt.Errorf("start execution: %w", err)
	}
	arn := aws.ToString(out.PipelineExecutionArn)
	fmt.Fprintf(d.out, "started %s\n", arn)
	return arn, nil
}

// waitUntilRunning waits until every step runs and every worker has
// registered what it started.
func (d *demo) waitUntilRunning(ctx context.Context, arn string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		steps, err := d.steps(ctx, arn)
		if err != nil {
			return err
		}
		running := 0
		for _, name := range []string{"Train", "StartStateMachine", "StartGlueJob", "RunExternalJob", "Score"} {
			if steps[name] == "Executing" {
				running++
			}
		}
		n := 0
		d.registered.Range(func(any, any) bool { n++; return true })
		if running == 5 && n == 3 && d.scoreCalls.Load() > 0 {
			fmt.Fprintln(d.out, "all five steps are running; the workers started a Step Functions execution, a Glue job run and an external job")
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the pipeline did not get going: steps %v, %d workers registered, score called %d times; %v", steps, n, d.scoreCalls.Load(), d.failed())
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

func (d *demo) steps(ctx context.Context, arn string) (map[string]string, error) {
	out, err := d.sm.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, s := range out.PipelineExecutionSteps {
		m[aws.ToString(s.StepName)] = string(s.StepStatus)
	}
	return m, nil
}

func (d *demo) postStop(ctx context.Context, arn string) (int, string, error) {
	body, _ := json.Marshal(map[string]string{"pipelineExecutionArn": arn, "reason": "demo: budget exceeded, stop everything", "mode": "graceful"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.st.GatewayURL+"/stops", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "demo-stop")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// getExecution reads the stop API's view of the execution.
func (d *demo) getExecution(ctx context.Context, arn string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.st.GatewayURL+"/executions/"+url.PathEscape(arn), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET /executions answered %d: %v", resp.StatusCode, v)
	}
	return v, nil
}

// fail records a check that did not hold; the worker and the watcher
// call it from their goroutines.
func (d *demo) fail(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failures = append(d.failures, fmt.Sprintf(format, args...))
}

func (d *demo) failed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.failures...)
}

type invoker func(ctx context.Context, payload []byte) ([]byte, error)

func (f invoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) { return f(ctx, payload) }

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return errors.New("timed out")
	case <-time.After(d):
		return nil
	}
}

// started returns the ids of what the workers started.
func (d *demo) started() (sfnExecution, glueRunID string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sfnExecution, d.glueRunID
}
