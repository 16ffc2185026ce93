package main

import (
	"fmt"
	"math/rand"
	"strings"
)

// trigger is what stops an execution.
type trigger string

const (
	trigGraceful   trigger = "http graceful"
	trigForce      trigger = "http force"
	trigBulk       trigger = "bulk by pipeline"
	trigEvent      trigger = "Stop Requested event"
	trigScheduled  trigger = "scheduled stop"
	trigMaxRuntime trigger = "max runtime"
	trigFailFast   trigger = "fail-fast"
	trigNone       trigger = "nobody stops"
)

// script is one kind of execution: its pipeline, what stops it and the
// status it must end in.
type script struct {
	name     string
	pipeline string // one pipeline per script; the chaos context's policies match these names
	trigger  trigger
	expect   string // the execution's final status
	// callbacks is how many callback steps the pipeline has; their workers
	// start resources of the kinds the run hands out in turn.
	callbacks int
	training  bool // a training and a processing step beside
	lambda    string
	failStep  bool // a processing step that fails after a few seconds
	late      bool // the first callback's worker registers its resource after the stop
	why       string
}

// Lambda step functions, served by the harness (see lambdas.go).
const (
	lambdaFinish  = "finish"  // ends when its execution is stopping (shared/lambdastep)
	lambdaTimeout = "timeout" // never ends in time: the step times out
)

// lambdaTimeoutSeconds is the timing-out Lambda step's timeout.
const lambdaTimeoutSeconds = 25

func scripts(f faultSwitches) []script {
	s := []script{
		{name: "graceful", pipeline: "chaos-http-graceful", trigger: trigGraceful, expect: "Stopped", callbacks: 3, training: true,
			why: "callbacks answered after their cleanup; SageMaker stops the jobs"},
		{name: "force", pipeline: "chaos-http-force", trigger: trigForce, expect: "Stopped", callbacks: 3, training: true,
			why: "force answers every open callback at once"},
		{name: "bulk", pipeline: "chaos-bulk", trigger: trigBulk, expect: "Stopped", callbacks: 2, training: true,
			why: "one bulk stop reaches every running execution of the pipeline"},
		{name: "event", pipeline: "chaos-event", trigger: trigEvent, expect: "Stopped", callbacks: 2, training: true,
			why: "a Stop Requested event stops it like the HTTP API"},
		{name: "scheduled", pipeline: "chaos-nightly", trigger: trigScheduled, expect: "Stopped", callbacks: 2, training: true,
			why: "the scheduled rule stops every running execution of the pipeline"},
		{name: "max-runtime", pipeline: "chaos-maxrt", trigger: trigMaxRuntime, expect: "Stopped", callbacks: 2, training: true,
			why: "the sweeper stops it past its policy's max runtime"},
		{name: "fail-fast", pipeline: "chaos-failfast", trigger: trigFailFast, expect: "Failed", callbacks: 1, training: true, failStep: true,
			why: "a step failed, so the execution ends Failed; fail-fast stops the callback that would hold it forever"},
		{name: "unstopped", pipeline: "chaos-free", trigger: trigNone, expect: "Succeeded", callbacks: 2,
			why: "nobody stops it: its workers answer success"},
	}
	if f.lambdaSteps {
		s = append(s,
			script{name: "lambda-finishes", pipeline: "chaos-lambda-ok", trigger: trigGraceful, expect: "Stopped", callbacks: 1, lambda: lambdaFinish,
				why: "the Lambda step ends when it sees the stop, so the execution is Stopped"},
			script{name: "lambda-times-out", pipeline: "chaos-lambda-timeout", trigger: trigGraceful, expect: "Failed", callbacks: 1, lambda: lambdaTimeout,
				why: "a Lambda step cannot be stopped; it times out, so the execution is Failed"})
	}
	if f.lateRegister {
		s = append(s, script{name: "late-register", pipeline: "chaos-late", trigger: trigGraceful, expect: "Stopped", callbacks: 2, late: true,
			why: "the worker registers after the stop: cleaned, or refused and cleaned by the worker"})
	}
	return s
}

// pick keeps the scripts named in a comma-separated list (all when empty).
func pick(all []script, only string) ([]script, error) {
	if strings.TrimSpace(only) == "" {
		return all, nil
	}
	var out []script
	for _, name := range strings.Split(only, ",") {
		found := false
		for _, s := range all {
			if s.name == strings.TrimSpace(name) {
				out, found = append(out, s), true
			}
		}
		if !found {
			return nil, fmt.Errorf("-scripts: no script %q (or its fault switch is off)", name)
		}
	}
	return out, nil
}

// resourceKinds are handed to callback steps in turn, so every cleaner
// kind is exercised. The cleanup Lambda kinds are named in the step's
// arguments; the others are started and registered by the worker.
var resourceKinds = []string{
	"sfn-execution", "glue-job-run", "lambda-cleanup", "batch-job", "ecs-task",
	"sagemaker-training-job", "sagemaker-processing-job", "sagemaker-transform-job",
}

// brokenCleanup is the kind of the one cleanup Lambda that always fails.
const brokenCleanup = "lambda-cleanup-broken"

// execution is one execution of the run and what happened to it.
type execution struct {
	i      int
	script script
	arn    string
	kinds  []string // per callback step, the kind of resource its worker starts
	// apiNotes are the stop API's answers that were not a success.
	apiNotes []string
}

// plan picks, with the seed, the script of each of n executions: every
// script at least once when n allows, the rest at random.
func plan(n int, all []script, rng *rand.Rand) []*execution {
	xs := make([]*execution, n)
	for i := range xs {
		s := all[rng.Intn(len(all))]
		if i < len(all) {
			s = all[i]
		}
		xs[i] = &execution{i: i, script: s}
	}
	rng.Shuffle(len(xs), func(a, b int) { xs[a], xs[b] = xs[b], xs[a] })
	next := 0
	for i, x := range xs {
		x.i = i
		for range x.script.callbacks {
			kind := resourceKinds[next%len(resourceKinds)]
			next++
			if x.script.trigger == trigNone {
				kind = "none" // its worker answers; nothing to clean
			}
			x.kinds = append(x.kinds, kind)
		}
	}
	return xs
}

// definition is the pipeline definition of a script.
func (c *chaos) definition(s script) string {
	var steps []string
	for i := range s.callbacks {
		name := fmt.Sprintf("Callback%d", i+1)
		steps = append(steps, fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":{"script":%q,"step":%q,"stopcoord_worker_queue":%q},"OutputParameters":[{"OutputName":"result","OutputType":"String"}]}`,
			name, c.callbackQueue, s.name, name, c.workQueue))
	}
	if s.training {
		steps = append(steps,
			`{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"chaos:latest","TrainingInputMode":"File"}},"x-emulator":{"durationMs":3600000}}`,
			`{"Name":"Prepare","Type":"Processing","Arguments":{"AppSpecification":{"ImageUri":"chaos:latest"}},"x-emulator":{"durationMs":3600000}}`)
	}
	if s.trigger == trigNone {
		steps = append(steps, `{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"chaos:latest","TrainingInputMode":"File"}},"x-emulator":{"durationMs":3000}}`)
	}
	if s.failStep {
		steps = append(steps, `{"Name":"Validate","Type":"Processing","Arguments":{"AppSpecification":{"ImageUri":"chaos:latest"}},"x-emulator":{"durationMs":4000,"fail":"chaos: validation failed"}}`)
	}
	switch s.lambda {
	case lambdaFinish:
		steps = append(steps, fmt.Sprintf(`{"Name":"Score","Type":"Lambda","FunctionArn":%q,"Timeout":600,"Arguments":{"executionArn":{"Get":"Execution.PipelineExecutionArn"}},"OutputParameters":[{"OutputName":"score","OutputType":"String"}]}`, lambdaARN(lambdaFinish)))
	case lambdaTimeout:
		steps = append(steps, fmt.Sprintf(`{"Name":"Score","Type":"Lambda","FunctionArn":%q,"Timeout":%d,"Arguments":{"executionArn":{"Get":"Execution.PipelineExecutionArn"}},"OutputParameters":[{"OutputName":"score","OutputType":"String"}]}`, lambdaARN(lambdaTimeout), lambdaTimeoutSeconds))
	}
	return `{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.Join(steps, ",") + `]}`
}

func lambdaARN(name string) string {
	return "arn:aws:lambda:us-east-1:" + account + ":function:chaos-step-" + name
}
