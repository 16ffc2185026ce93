// Command bulkstop stops many running executions of one pipeline with one
// POST /pipelines/{name}/stops on the local stack (the synthesized
// template, every function under aws-lambda-rie, the SageMaker emulator)
// and prints what it took: SageMaker calls, the peak rate, throttled calls,
// the wall time against calls ÷ budget, and how the executions ended.
//
// SageMaker's own rate limit is modelled in front of the emulator: per
// operation, as SageMaker limits each API action, a token bucket of the
// budget a second refuses the excess with ThrottlingException, so a stop
// that outran its budget shows up as a throttled call. SageMaker's status
// events are left out (see the emulator options below).
//
//	go run ./bench/cmd/bulkstop -executions 1000        (make bench-bulk)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/stack"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bulkstop:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bulkstop", flag.ContinueOnError)
	template := fs.String("template", "cdk.out/StopCoord.template.json", "the synthesized template (make synth)")
	bin := fs.String("bin", ".local/bin", "the functions' host bootstraps (make build)")
	executions := fs.Int("executions", 1000, "running executions to stop")
	budget := fs.Int("budget", 0, "the stop queue's SageMaker calls per second in all, split between its instances as the template splits it; 0 keeps the template's ("+settings.SageMakerCallsPerSecond+" of each instance × the instances)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	verbose := fs.Bool("v", false, "stream the functions' logs to stderr")
	pollers := fs.Int("poller-concurrency", 0, "batches each queue's poller invokes at once; 0 is what Lambda does with the template's settings")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	instances, perInstance, err := stopQueueBudget(*template, *budget)
	if err != nil {
		return err
	}
	total := instances * perInstance
	limit := newRateLimit(total)
	defer limit.close()
	env := map[string]string{"AWS_ENDPOINT_URL_SAGEMAKER": limit.url()} // the functions reach SageMaker through the rate limit
	if *budget > 0 {
		env[settings.SageMakerCallsPerSecond] = strconv.Itoa(perInstance)
	}
	st, err := stack.Start(ctx, stack.Config{
		Template: *template, BinDir: *bin, GatewayAddr: "127.0.0.1:0",
		Logger:            slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Env:               env,
		PollerConcurrency: *pollers,
		FunctionLogs: func() io.Writer {
			if *verbose {
				return os.Stderr
			}
			return nil
		}(),
		Emulator: func(o *emulator.Options) {
			o.MaxRunningExecutions = *executions + 10
			o.JobDuration = time.Hour // each runs until it is stopped
			o.StopDelay = 100 * time.Millisecond
			// No status events: on one machine, a thousand executions'
			// events keep moto and the status-events function busy for
			// many minutes (the ledger took in about 116 executions in 7
			// minutes in a run with them), and the figure is the stop
			// path's: the API, the stop queue and the stop-queue function.
			o.EventBridgeEndpoint = ""
		},
	})
	if err != nil {
		return err
	}
	defer st.Close()
	if got := st.PollerConcurrency[stopQueueFunction]; *pollers == 0 && got != instances {
		return fmt.Errorf("the local stack invokes %s %d at a time, the template %d", stopQueueFunction, got, instances)
	}
	limit.setTarget(st.SageMakerURL)
	sm := st.SageMakerClient() // straight to the emulator: setting up is not part of the figure

	name := "bulk-" + strconv.FormatInt(time.Now().Unix(), 36)
	if _, err := sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{
		PipelineName:       aws.String(name),
		PipelineDefinition: aws.String(`{"Version":"2020-12-01","Parameters":[],"Steps":[{"Name":"Train","Type":"Training","Arguments":{}}]}`),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/bulk"), ClientRequestToken: aws.String(pipeline.RequestToken("bulk-create", name)),
	}); err != nil {
		return fmt.Errorf("create pipeline: %w", err)
	}
	arns, err := startAll(ctx, sm, name, *executions)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "bulk stop: %d running executions of %s, stop queue budget %d SageMaker calls/s (%d instances × %d), SageMaker refusing calls beyond it\n",
		len(arns), name, total, instances, perInstance)
	fmt.Fprintf(out, "machine: %s\n", machine())
	limit.reset()
	began := time.Now()
	status, body, err := post(ctx, st.GatewayURL+"/pipelines/"+name+"/stops", `{"reason":"bulk stop benchmark","mode":"graceful"}`)
	if err != nil {
		return err
	}
	accepted := time.Since(began)
	if status != http.StatusAccepted {
		var at []string
		for _, t := range limit.snapshot().lists {
			at = append(at, fmt.Sprintf("+%.1fs", t.Sub(began).Seconds()))
		}
		fmt.Fprintf(out, "the stop API's ListPipelineExecutions calls came at %s\n", strings.Join(at, " "))
		return fmt.Errorf("POST /pipelines/%s/stops answered %d after %s: %s", name, status, accepted.Round(time.Millisecond), body)
	}
	ended, err := waitStopped(ctx, sm, arns)
	if err != nil {
		return err
	}
	allStopped := time.Since(began)

	calls := limit.snapshot()
	stopCalls := calls.byOp["StopPipelineExecution"] + calls.byOp["DescribePipelineExecution"]
	expected := time.Duration(float64(stopCalls) / float64(total) * float64(time.Second))
	wall := calls.lastStop.Sub(began)
	fmt.Fprintf(out, "\nPOST /pipelines/%s/stops answered 202 in %s\n", name, accepted.Round(time.Millisecond))
	fmt.Fprintf(out, "SageMaker calls through the rate limit: %s\n", calls.summary())
	fmt.Fprintf(out, "throttled calls (ThrottlingException): %d\n", calls.throttled)
	fmt.Fprintf(out, "peak calls in any one second: %d (budget %d)\n", calls.peak(), total)
	fmt.Fprintf(out, "wall time, POST to the last StopPipelineExecution: %s; the stop calls ÷ budget: %d ÷ %d/s = %s; ratio %.3f (goal within 10%%)\n",
		wall.Round(time.Millisecond), stopCalls, total, expected.Round(time.Millisecond), float64(wall)/float64(expected))
	fmt.Fprintf(out, "every execution ended: %s (all Stopped %s after the POST)\n", ended, allStopped.Round(time.Millisecond))
	fmt.Fprintf(out, "machine at the end: %s\n", machine())
	var short []string
	if calls.throttled > 0 {
		short = append(short, fmt.Sprintf("%d throttled calls, goal 0", calls.throttled))
	}
	if r := float64(wall) / float64(expected); r > 1.1 || r < 0.9 {
		short = append(short, fmt.Sprintf("wall time %.2fx calls ÷ budget, goal within 10%%", r))
	}
	if ended != fmt.Sprintf("%d Stopped", len(arns)) {
		short = append(short, "not every execution ended Stopped")
	}
	if len(short) > 0 {
		fmt.Fprintf(out, "short of the goals: %s\n", strings.Join(short, "; "))
		return errors.New("bulk stop short of its goals")
	}
	fmt.Fprintln(out, "goals met: zero throttled calls, wall time within 10% of calls ÷ budget, every execution Stopped")
	return nil
}

// startAll starts n executions, a few at a time, and waits until each runs.
func startAll(ctx context.Context, sm *sagemaker.Client, name string, n int) ([]string, error) {
	arns := make([]string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range arns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{
				PipelineName: aws.String(name), ClientRequestToken: aws.String(pipeline.RequestToken("bulk-start", name, strconv.Itoa(i))),
			})
			if err != nil {
				errs <- fmt.Errorf("start execution %d: %w", i, err)
				return
			}
			arns[i] = aws.ToString(out.PipelineExecutionArn)
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	for {
		counts, err := statuses(ctx, sm, arns)
		if err != nil {
			return nil, err
		}
		if counts[string(smtypes.PipelineExecutionStatusExecuting)] == n {
			return arns, nil
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return nil, fmt.Errorf("waiting for %d executions to run (now %v): %w", n, counts, err)
		}
	}
}

// waitStopped waits until no execution is Executing or Stopping and says
// how they ended.
func waitStopped(ctx context.Context, sm *sagemaker.Client, arns []string) (string, error) {
	for {
		counts, err := statuses(ctx, sm, arns)
		if err != nil {
			return "", err
		}
		if counts["Executing"] == 0 && counts["Stopping"] == 0 {
			var parts []string
			for status, n := range counts {
				parts = append(parts, fmt.Sprintf("%d %s", n, status))
			}
			return strings.Join(parts, ", "), nil
		}
		if err := sleep(ctx, time.Second); err != nil {
			return "", fmt.Errorf("waiting for the executions to stop (now %v): %w", counts, err)
		}
	}
}

// statuses counts the executions by status, from the emulator's list.
func statuses(ctx context.Context, sm *sagemaker.Client, arns []string) (map[string]int, error) {
	want := make(map[string]bool, len(arns))
	for _, a := range arns {
		want[a] = true
	}
	counts := map[string]int{}
	p := sagemaker.NewListPipelineExecutionsPaginator(sm, &sagemaker.ListPipelineExecutionsInput{
		PipelineName: aws.String(pipelineOf(arns[0])), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list executions: %w", err)
		}
		for _, s := range page.PipelineExecutionSummaries {
			if want[aws.ToString(s.PipelineExecutionArn)] {
				counts[string(s.PipelineExecutionStatus)]++
			}
		}
	}
	return counts, nil
}

func pipelineOf(arn string) string {
	a, _ := pipeline.ParseExecutionARN(arn)
	return a.Pipeline
}

func post(ctx context.Context, url, body string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "bulkstop-benchmark")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if json.Unmarshal(b, &v) == nil {
		if n, ok := v["count"]; ok {
			return resp.StatusCode, fmt.Sprintf("count %v", n), nil
		}
	}
	return resp.StatusCode, string(b), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func machine() string {
	host, _ := os.Hostname()
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s; load average %s", host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, load)
}

// stopQueueFunction is the function the stop queue feeds.
const stopQueueFunction = "stop-queue"

// stopQueueBudget is how the stop queue's SageMaker budget is spent: by
// how many instances at once (as the template's event-source mapping and
// reserved concurrency allow) and how many calls a second each. A budget
// of 0 keeps the template's per-instance figure; otherwise the budget is
// split evenly between the instances, as the stack splits it.
func stopQueueBudget(templatePath string, budget int) (instances, perInstance int, err error) {
	t, err := stack.ReadTemplate(templatePath)
	if err != nil {
		return 0, 0, err
	}
	instances = t.PollerConcurrency(stopQueueFunction)
	if instances == 0 {
		return 0, 0, fmt.Errorf("no queue feeds %s in %s", stopQueueFunction, templatePath)
	}
	if budget > 0 {
		if budget%instances != 0 {
			return 0, 0, fmt.Errorf("-budget %d does not split evenly between the %d instances of %s", budget, instances, stopQueueFunction)
		}
		return instances, budget / instances, nil
	}
	for _, id := range t.OfType("AWS::Lambda::Function") {
		r := t.Resources[id]
		if r.FunctionName() != stopQueueFunction {
			continue
		}
		env, _ := r.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		v, _ := vars[settings.SageMakerCallsPerSecond].(string)
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, fmt.Errorf("%s's %s is %q in %s, want a positive number", stopQueueFunction, settings.SageMakerCallsPerSecond, v, templatePath)
		}
		return instances, n, nil
	}
	return 0, 0, fmt.Errorf("no function %s in %s", stopQueueFunction, templatePath)
}
