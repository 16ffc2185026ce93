package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// check verifies that everything the stop promises happened.
func (d *demo) check(ctx context.Context, arn string, w *watcher) {
	sfnExecution, glueRunID := d.started()
	if out, err := d.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(sfnExecution)}); err != nil || out.Status != "ABORTED" {
		d.fail("the Step Functions execution is %v (err %v), want ABORTED", statusOf(out), err)
	}
	if out, err := d.glue.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("demo-features"), RunId: aws.String(glueRunID)}); err != nil ||
		(out.JobRun.JobRunState != "STOPPED" && out.JobRun.JobRunState != "STOPPING") {
		d.fail("the Glue job run is not stopped (err %v)", err)
	}
	if n := d.cleanupCalls.Load(); n != 1 {
		d.fail("the cleanup Lambda was called %d times, want once", n)
	}
	view, err := d.ledger.ReadExecution(ctx, mustARN(arn))
	if err != nil {
		d.fail("read the ledger: %v", err)
		return
	}
	answered := 0
	for _, t := range view.Tokens {
		if t.State == pipeline.TokenAnswered {
			answered++
		} else {
			d.fail("the token of %s is %s, want answered", t.StepName, t.State)
		}
	}
	if answered != 3 {
		d.fail("%d callback tokens answered, want 3", answered)
	}
	cleaned := map[string]pipeline.CleanupStatus{}
	for _, c := range view.Cleanups {
		cleaned[c.Resource.Kind] = c.Status
	}
	for _, kind := range []string{"sfn-execution", "glue-job-run", "lambda-cleanup"} {
		if cleaned[kind] != pipeline.CleanupSucceeded {
			d.fail("cleanup of the %s is %q in the ledger, want succeeded", kind, cleaned[kind])
		}
	}
	steps, err := d.steps(ctx, arn)
	if err != nil {
		d.fail("list steps: %v", err)
	}
	for name, status := range steps {
		if status != "Stopped" && status != "Succeeded" {
			d.fail("step %s ended %s", name, status)
		}
	}
}

func statusOf(out *sfn.DescribeExecutionOutput) string {
	if out == nil {
		return "unknown"
	}
	return string(out.Status)
}

// report prints the phases of the stop, their durations, and the ledger's
// final view as the stop API shows it.
func (d *demo) report(ctx context.Context, arn string, stopAt, stoppedAt time.Time, w *watcher) {
	fmt.Fprintln(d.out, "\nphases:")
	phase := func(name string, at time.Time) {
		if at.IsZero() {
			fmt.Fprintf(d.out, "  %-54s not seen\n", name)
			return
		}
		fmt.Fprintf(d.out, "  %-54s %8.3fs\n", name, at.Sub(stopAt).Seconds())
	}
	has := func(parts ...string) func(string) bool {
		return func(s string) bool {
			for _, p := range parts {
				if !strings.Contains(s, p) {
					return false
				}
			}
			return true
		}
	}
	first := func(m func(string) bool) time.Time { f, _ := w.when(m); return f }
	last := func(m func(string) bool) time.Time { _, l := w.when(m); return l }
	phase("stop issued to SageMaker", first(has("stop issued")))
	phase("execution Stopping", first(has("execution Stopping")))
	phase("Stopping messages sent (last callback step Stopping)", last(has("Stopping message is on the callback queue")))
	phase("every cleanup done", last(has("cleanup of ")))
	phase("every token answered", last(has("token of ", "answered")))
	phase("Lambda step finished (waited for)", first(has("step Score Succeeded")))
	phase("training job stopped (SageMaker's own stop)", first(has("step Train Stopped")))
	phase("execution Stopped", stoppedAt)
	phase("stop request closed in the ledger", first(has("stop request closed")))
	fmt.Fprintf(d.out, "\nend-to-end stop latency: %.3fs (POST /stops to the execution Stopped)\n", stoppedAt.Sub(stopAt).Seconds())

	view, err := d.getExecution(ctx, arn)
	if err != nil {
		d.fail("GET /executions: %v", err)
		return
	}
	summary := map[string]any{"status": view["status"], "steps": view["steps"], "blocking": view["blocking"]}
	if stops, ok := view["stops"].([]any); ok && len(stops) > 0 {
		s := stops[0].(map[string]any)
		summary["stop"] = map[string]any{"id": s["id"], "phase": s["phase"], "outcome": s["outcome"], "latencyMs": s["latencyMs"], "requestedBy": s["requestedBy"]}
		if s["phase"] != "closed" {
			d.fail("the stop request is %v, want closed", s["phase"])
		}
	}
	b, _ := json.MarshalIndent(summary, "  ", "  ")
	fmt.Fprintf(d.out, "\nthe ledger's final view (GET /executions/{arn}):\n  %s\n", b)
}
