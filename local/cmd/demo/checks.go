package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// What the demo's stop must end in.
var (
	// wantSteps is each step's status at the end: everything SageMaker can
	// stop is Stopped; the Lambda step cannot be stopped, and its function
	// ends early and succeeds once it sees the stop.
	wantSteps = map[string]string{
		"Train": "Stopped", "StartStateMachine": "Stopped", "StartGlueJob": "Stopped", "RunExternalJob": "Stopped",
		"Score": "Succeeded",
	}
	callbackSteps = []string{"StartStateMachine", "StartGlueJob", "RunExternalJob"}
)

// wantAnswer is the Send* every callback token gets: the demo pipeline has
// no policy, so a stopped callback step is answered with a failure.
const wantAnswer = "SendPipelineExecutionStepFailure"

// facts is everything the checks look at, read after the stop from each
// party's own records: SageMaker (the emulator), the ledger, the services
// the workers used, the cleanup Lambda and the stop API.
type facts struct {
	steps   map[string]string // step name -> SageMaker's final status
	answers []emulator.Answer // what SageMaker accepted, per callback token
	tokens  []pipeline.Token  // the ledger's token records
	// cleanups are the ledger's cleanup records; resources is what each
	// callback step should have had cleaned: what its worker registered,
	// and the cleanup Lambda its arguments name.
	cleanups  []pipeline.Cleanup
	resources map[string][]pipeline.Resource
	// The resources themselves, as their services report them.
	sfnStatus, glueState string
	cleanupLambdaCalls   int64
	stops                []stopSummary // GET /executions/{arn}
}

type stopSummary struct{ Phase, Outcome string }

// evaluate returns every promise of the stop that did not hold.
func evaluate(f facts) []string {
	var failed []string
	fail := func(format string, args ...any) { failed = append(failed, fmt.Sprintf(format, args...)) }

	// Every step against the status it should end in, and no other step.
	for _, name := range sortedKeys(wantSteps) {
		if got, ok := f.steps[name]; !ok {
			fail("step %s is not listed by SageMaker", name)
		} else if got != wantSteps[name] {
			fail("step %s ended %s, want %s", name, got, wantSteps[name])
		}
	}
	for _, name := range sortedKeys(f.steps) {
		if _, ok := wantSteps[name]; !ok {
			fail("step %s (%s) is not part of the demo pipeline", name, f.steps[name])
		}
	}

	// Answers as SageMaker received them: exactly one accepted per
	// callback step, with the expected outcome.
	accepted := map[string]int{}
	for _, a := range f.answers {
		accepted[a.StepName] += a.Accepted
		if a.Accepted > 0 && a.Operation != wantAnswer {
			fail("SageMaker accepted %s for the token of %s, want %s", orNone(a.Operation), a.StepName, wantAnswer)
		}
	}
	for _, name := range callbackSteps {
		if accepted[name] != 1 {
			fail("SageMaker accepted %d answers for %s, want exactly 1", accepted[name], name)
		}
	}

	// The ledger agrees: every token answered once, with a failure.
	stepOf := map[string]string{}
	answered := map[string]int{}
	for _, t := range f.tokens {
		stepOf[t.Token] = t.StepName
		if t.State != pipeline.TokenAnswered {
			fail("the ledger has the token of %s %s, want answered", t.StepName, t.State)
			continue
		}
		answered[t.StepName]++
		if t.Outcome != pipeline.OutcomeFailure {
			fail("the ledger has the token of %s answered with %s, want failure", t.StepName, t.Outcome)
		}
	}
	for _, name := range callbackSteps {
		if answered[name] != 1 {
			fail("the ledger has %d answered tokens for %s, want 1", answered[name], name)
		}
	}

	// Every cleanup per resource: once, succeeded, and nothing cleaned
	// that the step did not start.
	type key struct{ step, resource string }
	cleaned := map[key][]pipeline.Cleanup{}
	for _, c := range f.cleanups {
		k := key{stepOf[c.Token], c.Resource.Key()}
		cleaned[k] = append(cleaned[k], c)
	}
	want := map[key]bool{}
	for _, step := range sortedKeys(f.resources) {
		for _, r := range f.resources[step] {
			k := key{step, r.Key()}
			want[k] = true
			cs := cleaned[k]
			switch {
			case len(cs) == 0:
				fail("no cleanup of %s %s (step %s) in the ledger", r.Kind, r.ID, step)
			case len(cs) > 1:
				fail("%d cleanup records of %s %s (step %s), want 1", len(cs), r.Kind, r.ID, step)
			case cs[0].Status != pipeline.CleanupSucceeded:
				fail("cleanup of %s %s (step %s) is %s in the ledger (%s), want succeeded", r.Kind, r.ID, step, cs[0].Status, cs[0].LastError)
			}
		}
	}
	var extra []string
	for k := range cleaned {
		if !want[k] {
			extra = append(extra, fmt.Sprintf("the ledger has a cleanup of %s for step %q, which did not start it", k.resource, k.step))
		}
	}
	sort.Strings(extra)
	failed = append(failed, extra...)
	if f.sfnStatus != "ABORTED" {
		fail("the Step Functions execution is %s, want ABORTED", orNone(f.sfnStatus))
	}
	if f.glueState != "STOPPED" && f.glueState != "STOPPING" {
		fail("the Glue job run is %s, want STOPPED or STOPPING", orNone(f.glueState))
	}
	if f.cleanupLambdaCalls != 1 {
		fail("the cleanup Lambda was called %d times, want once", f.cleanupLambdaCalls)
	}

	// The stop request: exactly one, closed, with the execution Stopped.
	switch {
	case len(f.stops) != 1:
		fail("GET /executions shows %d stop requests, want 1", len(f.stops))
	case f.stops[0].Phase != "closed":
		fail("the stop request is %s, want closed", orNone(f.stops[0].Phase))
	case f.stops[0].Outcome != "Stopped":
		fail("the stop request closed with %s, want Stopped", orNone(f.stops[0].Outcome))
	}
	return failed
}

// collect reads the facts after the stop.
func (d *demo) collect(ctx context.Context, arn string) facts {
	f := facts{resources: map[string][]pipeline.Resource{}, cleanupLambdaCalls: d.cleanupCalls.Load()}
	var err error
	if f.steps, err = d.steps(ctx, arn); err != nil {
		d.fail("list steps: %v", err)
	}
	f.answers = d.st.Emulator.Answers(arn)
	if view, err := d.ledger.ReadExecution(ctx, mustARN(arn)); err != nil {
		d.fail("read the ledger: %v", err)
	} else {
		f.tokens, f.cleanups = view.Tokens, view.Cleanups
	}
	d.registered.Range(func(k, v any) bool {
		f.resources[k.(string)] = append(f.resources[k.(string)], v.([]pipeline.Resource)...)
		return true
	})
	f.resources["RunExternalJob"] = append(f.resources["RunExternalJob"], pipeline.Resource{Kind: pipeline.ResourceLambdaCleanup, ID: cleanupFn})

	sfnExecution, glueRunID := d.started()
	if out, err := d.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(sfnExecution)}); err != nil {
		f.sfnStatus = "unknown (" + err.Error() + ")"
	} else {
		f.sfnStatus = string(out.Status)
	}
	if out, err := d.glue.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("demo-features"), RunId: aws.String(glueRunID)}); err != nil {
		f.glueState = "unknown (" + err.Error() + ")"
	} else if out.JobRun != nil {
		f.glueState = string(out.JobRun.JobRunState)
	}
	if view, err := d.getExecution(ctx, arn); err != nil {
		d.fail("GET /executions: %v", err)
	} else if stops, ok := view["stops"].([]any); ok {
		for _, s := range stops {
			m, _ := s.(map[string]any)
			phase, _ := m["phase"].(string)
			outcome, _ := m["outcome"].(string)
			f.stops = append(f.stops, stopSummary{Phase: phase, Outcome: outcome})
		}
	}
	return f
}

// check records every failed promise of the stop.
func (d *demo) check(ctx context.Context, arn string) {
	for _, msg := range evaluate(d.collect(ctx, arn)) {
		d.fail("%s", msg)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "none"
	}
	return s
}
