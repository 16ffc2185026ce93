package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/stopshare"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

const (
	sfnARN  = "arn:aws:states:us-east-1:123456789012:execution:demo-etl:run-1"
	glueRun = "jr_1"
)

// goodFacts is a stop that kept every promise.
func goodFacts() facts {
	tok := func(step, token string) pipeline.Token {
		return pipeline.Token{Token: token, StepName: step, State: pipeline.TokenAnswered, Outcome: pipeline.OutcomeFailure}
	}
	clean := func(token, kind, id string) pipeline.Cleanup {
		return pipeline.Cleanup{Token: token, Resource: pipeline.Resource{Kind: kind, ID: id}, Status: pipeline.CleanupSucceeded, Attempts: 1}
	}
	return facts{
		steps: map[string]string{"Train": "Stopped", "StartStateMachine": "Stopped", "StartGlueJob": "Stopped", "RunExternalJob": "Stopped", "Score": "Succeeded"},
		answers: []emulator.Answer{
			{Token: "TokenSFN01", StepName: "StartStateMachine", Operation: wantAnswer, Accepted: 1},
			{Token: "TokenGLUE1", StepName: "StartGlueJob", Operation: wantAnswer, Accepted: 1},
			{Token: "TokenEXT01", StepName: "RunExternalJob", Operation: wantAnswer, Accepted: 1},
		},
		tokens: []pipeline.Token{tok("StartStateMachine", "TokenSFN01"), tok("StartGlueJob", "TokenGLUE1"), tok("RunExternalJob", "TokenEXT01")},
		cleanups: []pipeline.Cleanup{
			clean("TokenSFN01", pipeline.ResourceSFNExecution, sfnARN),
			clean("TokenGLUE1", pipeline.ResourceGlueJobRun, glueRun),
			clean("TokenEXT01", pipeline.ResourceLambdaCleanup, cleanupFn),
		},
		resources: map[string][]pipeline.Resource{
			"StartStateMachine": {{Kind: pipeline.ResourceSFNExecution, ID: sfnARN}},
			"StartGlueJob":      {{Kind: pipeline.ResourceGlueJobRun, ID: glueRun}},
			"RunExternalJob":    {{Kind: pipeline.ResourceLambdaCleanup, ID: cleanupFn}},
		},
		sfnStatus: "ABORTED", glueState: "STOPPED", cleanupLambdaCalls: 1,
		stops: []stopSummary{{Phase: "closed", Outcome: "Stopped"}},
	}
}

func TestEvaluatePassesAKeptStop(t *testing.T) {
	if failed := evaluate(goodFacts()); len(failed) != 0 {
		t.Errorf("a stop that kept every promise fails:\n%s", strings.Join(failed, "\n"))
	}
}

// TestEvaluateFailsEachBrokenPromise breaks one promise at a time; each
// must fail its own check, with a message that names it.
func TestEvaluateFailsEachBrokenPromise(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(*facts)
		want    string
	}{
		{"a callback step ended Succeeded", func(f *facts) { f.steps["StartGlueJob"] = "Succeeded" }, "step StartGlueJob ended Succeeded, want Stopped"},
		{"the training step ended Succeeded", func(f *facts) { f.steps["Train"] = "Succeeded" }, "step Train ended Succeeded, want Stopped"},
		{"the Lambda step failed", func(f *facts) { f.steps["Score"] = "Failed" }, "step Score ended Failed, want Succeeded"},
		{"a step is missing", func(f *facts) { delete(f.steps, "RunExternalJob") }, "step RunExternalJob is not listed"},
		{"an unknown step", func(f *facts) { f.steps["Extra"] = "Stopped" }, "step Extra (Stopped) is not part of the demo pipeline"},
		{"SageMaker never got an answer", func(f *facts) { f.answers[0].Accepted, f.answers[0].Operation = 0, "" }, "SageMaker accepted 0 answers for StartStateMachine, want exactly 1"},
		{"SageMaker got two answers for a step", func(f *facts) {
			f.answers = append(f.answers, emulator.Answer{Token: "TokenGLUE2", StepName: "StartGlueJob", Operation: wantAnswer, Accepted: 1})
		}, "SageMaker accepted 2 answers for StartGlueJob, want exactly 1"},
		{"SageMaker got a success", func(f *facts) { f.answers[1].Operation = "SendPipelineExecutionStepSuccess" }, "SageMaker accepted SendPipelineExecutionStepSuccess for the token of StartGlueJob"},
		{"the ledger has a token open", func(f *facts) { f.tokens[2].State = pipeline.TokenOpen }, "the ledger has the token of RunExternalJob open, want answered"},
		{"the ledger answered with success", func(f *facts) { f.tokens[0].Outcome = pipeline.OutcomeSuccess }, "answered with success, want failure"},
		{"a resource was not cleaned", func(f *facts) { f.cleanups = f.cleanups[1:] }, "no cleanup of sfn-execution " + sfnARN},
		{"a cleanup failed", func(f *facts) { f.cleanups[1].Status, f.cleanups[1].LastError = pipeline.CleanupFailed, "boom" }, "cleanup of glue-job-run jr_1 (step StartGlueJob) is failed in the ledger (boom)"},
		{"a resource cleaned twice (under two tokens of one step)", func(f *facts) {
			f.tokens = append(f.tokens, pipeline.Token{Token: "TokenGLUE2", StepName: "StartGlueJob", State: pipeline.TokenAnswered, Outcome: pipeline.OutcomeFailure})
			f.cleanups = append(f.cleanups, pipeline.Cleanup{Token: "TokenGLUE2", Resource: pipeline.Resource{Kind: pipeline.ResourceGlueJobRun, ID: glueRun}, Status: pipeline.CleanupSucceeded})
		}, "2 cleanup records of glue-job-run jr_1 (step StartGlueJob), want 1"},
		{"a second resource of one kind not cleaned", func(f *facts) {
			f.resources["StartGlueJob"] = append(f.resources["StartGlueJob"], pipeline.Resource{Kind: pipeline.ResourceGlueJobRun, ID: "jr_2"})
		}, "no cleanup of glue-job-run jr_2 (step StartGlueJob)"},
		{"something cleaned that was not started", func(f *facts) {
			f.cleanups = append(f.cleanups, pipeline.Cleanup{Token: "TokenSFN01", Resource: pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "job-9"}, Status: pipeline.CleanupSucceeded})
		}, "a cleanup of batch-job#job-9 for step \"StartStateMachine\", which did not start it"},
		{"the Step Functions execution still runs", func(f *facts) { f.sfnStatus = "RUNNING" }, "the Step Functions execution is RUNNING, want ABORTED"},
		{"the Glue job run still runs", func(f *facts) { f.glueState = "RUNNING" }, "the Glue job run is RUNNING"},
		{"the cleanup Lambda was not called", func(f *facts) { f.cleanupLambdaCalls = 0 }, "the cleanup Lambda was called 0 times, want once"},
		{"the cleanup Lambda was called twice", func(f *facts) { f.cleanupLambdaCalls = 2 }, "the cleanup Lambda was called 2 times, want once"},
		{"no stop request in the view", func(f *facts) { f.stops = nil }, "GET /executions shows 0 stop requests, want 1"},
		{"the stop request is not closed", func(f *facts) { f.stops[0].Phase = "issued" }, "the stop request is issued, want closed"},
		{"the stop request closed with another outcome", func(f *facts) { f.stops[0].Outcome = "Failed" }, "the stop request closed with Failed, want Stopped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := goodFacts()
			tc.breakIt(&f)
			failed := evaluate(f)
			found := false
			for _, msg := range failed {
				found = found || strings.Contains(msg, tc.want)
			}
			if !found {
				t.Errorf("no failure says %q; got:\n%s", tc.want, strings.Join(failed, "\n"))
			}
		})
	}
}

// TestMedianOverhead takes the median over the measured steps only, the
// mean of the middle two for an even count; the paths themselves are
// computed and tested in local/stopshare.
func TestMedianOverhead(t *testing.T) {
	paths := []stopshare.Path{
		{Step: "StartStateMachine", Overhead: 95 * time.Millisecond},
		{Step: "StartGlueJob", Missing: stopshare.MissingSent, Overhead: time.Hour},
		{Step: "RunExternalJob", Overhead: 65 * time.Millisecond},
	}
	if m, ok := medianOverhead(paths); !ok || m != 80*time.Millisecond {
		t.Errorf("median overhead %v, want 80 ms (the mean of the two measured steps)", m)
	}
	var out strings.Builder
	printBreakdown(&out, paths)
	for _, want := range []string{"StartGlueJob       not measured: " + stopshare.MissingSent, "95.0 ms", "80.0 ms (within the goal of 100.0 ms)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the breakdown does not say %q:\n%s", want, out.String())
		}
	}
	if _, ok := medianOverhead(paths[1:2]); ok {
		t.Error("a median over no measured step")
	}
}
