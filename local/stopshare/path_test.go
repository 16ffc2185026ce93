package stopshare

import (
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

// threeSteps is a stop of three callback steps: two measured, one whose
// Stopping message was never seen.
func threeSteps() Inputs {
	return Inputs{
		Steps:     []string{"StartStateMachine", "StartGlueJob", "RunExternalJob"},
		Requested: t0, StopReceived: at(10),
		Sent:      map[string]time.Time{"TokenSFN01": at(40), "TokenEXT01": at(15)},
		Delivered: map[string]time.Time{"TokenSFN01": at(45), "TokenEXT01": at(25)},
		Answers: []emulator.Answer{
			{Token: "TokenSFN01", StepName: "StartStateMachine", Accepted: 1},
			{Token: "TokenGLUE1", StepName: "StartGlueJob", Accepted: 1},
			{Token: "TokenEXT01", StepName: "RunExternalJob", Accepted: 1},
		},
		Tokens: []pipeline.Token{
			{Token: "TokenSFN01", StepName: "StartStateMachine", State: pipeline.TokenAnswered, AnsweredAt: at(200)},
			{Token: "TokenGLUE1", StepName: "StartGlueJob", State: pipeline.TokenAnswered, AnsweredAt: at(300)},
			{Token: "TokenEXT01", StepName: "RunExternalJob", State: pipeline.TokenAnswered, AnsweredAt: at(100)},
		},
		Cleanups: []pipeline.Cleanup{
			// two cleaners side by side: 60-100 and 80-130 cover 70 ms
			{Token: "TokenSFN01", History: []pipeline.CleanupAttempt{{At: at(60), Duration: 40 * time.Millisecond}}},
			{Token: "TokenSFN01", History: []pipeline.CleanupAttempt{{At: at(80), Duration: 50 * time.Millisecond}}},
			{Token: "TokenEXT01", History: []pipeline.CleanupAttempt{{At: at(30), Duration: 20 * time.Millisecond}}},
		},
	}
}

func byStep(paths []Path) map[string]Path {
	m := map[string]Path{}
	for _, p := range paths {
		m[p.Step] = p
	}
	return m
}

// TestBreakdown cuts a step's stop into its hops: what is left after
// SageMaker, SQS and the cleaners is stopcoord's.
func TestBreakdown(t *testing.T) {
	in := threeSteps()
	paths := Breakdown(in)
	if len(paths) != 3 || paths[0].Step != "StartStateMachine" || paths[2].Step != "RunExternalJob" {
		t.Fatalf("paths %+v, want one per step in the steps' order", paths)
	}
	got := byStep(paths)
	sfn := got["StartStateMachine"]
	if sfn.Total != 200*time.Millisecond || sfn.SageMaker != 30*time.Millisecond || sfn.SQS != 5*time.Millisecond || sfn.Cleaners != 70*time.Millisecond || sfn.Overhead != 95*time.Millisecond {
		t.Errorf("StartStateMachine: %+v, want total 200, SageMaker 30, SQS 5, cleaners 70, overhead 95 ms", sfn)
	}
	// stop at SageMaker at 10, delivered at 45, cleaning 60-130, answered at 200
	if sfn.StopAPI != 10*time.Millisecond || sfn.BeforeCleaning != 15*time.Millisecond || sfn.AfterCleaning != 70*time.Millisecond {
		t.Errorf("StartStateMachine: %+v, want API 10, before cleaning 15, after 70 ms", sfn)
	}
	// 100 in all: SageMaker 5 (10 to 15), SQS 10, cleaner 20: 65 ms stopcoord's
	if ext := got["RunExternalJob"]; ext.SageMaker != 5*time.Millisecond || ext.SQS != 10*time.Millisecond || ext.Overhead != 65*time.Millisecond {
		t.Errorf("RunExternalJob: %+v, want SageMaker 5, SQS 10 and overhead 65 ms", ext)
	}
	if glue := got["StartGlueJob"]; glue.Missing != MissingSent || glue.Total != 0 || glue.Overhead != 0 {
		t.Errorf("StartGlueJob has no Stopping message seen: %+v, want not measured: %q and no figures", glue, MissingSent)
	}
	// A message handed over before the tap saw SQS's answer to the send:
	// SQS's part is nil, not negative, and the hops still add up.
	in.Delivered["TokenEXT01"] = at(12)
	if p := byStep(Breakdown(in))["RunExternalJob"]; p.SQS != 0 || p.SageMaker != 2*time.Millisecond || p.Overhead != 78*time.Millisecond {
		t.Errorf("RunExternalJob delivered before its send was noted: %+v, want SQS 0, SageMaker 2 and overhead 78 ms", p)
	}
}

// TestBreakdownRetriedCleanerIsOverhead: the wait between a failed cleaner
// attempt and its retry is not the cleaner's own time.
func TestBreakdownRetriedCleanerIsOverhead(t *testing.T) {
	in := threeSteps()
	in.Tokens[2].AnsweredAt = at(1100)
	in.Cleanups[2].History = append(in.Cleanups[2].History, pipeline.CleanupAttempt{At: at(1030), Duration: 20 * time.Millisecond})
	p := byStep(Breakdown(in))["RunExternalJob"]
	// 1100 in all: SageMaker 5, SQS 10, two attempts of 20: 1045 stopcoord's
	if p.Cleaners != 40*time.Millisecond || p.Overhead != 1045*time.Millisecond || p.AfterCleaning != 50*time.Millisecond {
		t.Errorf("retried cleaner: %+v, want cleaners 40, overhead 1045, after cleaning 50 ms", p)
	}
}

// TestBreakdownNotMeasured names why a step has no figures, rather than
// taking a missing time for an instant one.
func TestBreakdownNotMeasured(t *testing.T) {
	for _, tc := range []struct {
		name    string
		breakIt func(*Inputs)
		want    string
	}{
		{"no request time", func(in *Inputs) { in.Requested = time.Time{} }, MissingRequest},
		{"the stop never reached SageMaker", func(in *Inputs) { in.StopReceived = time.Time{} }, MissingStop},
		{"the token is not answered", func(in *Inputs) { in.Tokens[2].State, in.Tokens[2].AnsweredAt = pipeline.TokenOpen, time.Time{} }, MissingAnswer},
		{"no Stopping message sent", func(in *Inputs) { delete(in.Sent, "TokenEXT01") }, MissingSent},
		{"the message was lost", func(in *Inputs) { delete(in.Delivered, "TokenEXT01") }, MissingDelivered},
		{"answered before the delivery", func(in *Inputs) { in.Delivered["TokenEXT01"] = at(150) }, MissingLate},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := threeSteps()
			tc.breakIt(&in)
			p := byStep(Breakdown(in))["RunExternalJob"]
			if p.Missing != tc.want || p.Measured() || p.Total != 0 || p.Overhead != 0 {
				t.Errorf("got %+v, want not measured: %q and no figures", p, tc.want)
			}
		})
	}
}

func TestCovered(t *testing.T) {
	s := func(from, to int) span { return span{at(from), at(to)} }
	for _, tc := range []struct {
		name  string
		spans []span
		want  time.Duration
	}{
		{"none", nil, 0},
		{"one", []span{s(0, 30)}, 30 * time.Millisecond},
		{"apart", []span{s(0, 10), s(20, 25)}, 15 * time.Millisecond},
		{"overlapping, out of order", []span{s(80, 130), s(60, 100)}, 70 * time.Millisecond},
		{"one inside another", []span{s(0, 100), s(10, 20), s(150, 160)}, 110 * time.Millisecond},
		{"touching", []span{s(0, 10), s(10, 20)}, 20 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := covered(tc.spans); got != tc.want {
				t.Errorf("covered(%v) = %v, want %v", tc.spans, got, tc.want)
			}
		})
	}
}

func TestCallbackStepsAndTokens(t *testing.T) {
	in := threeSteps()
	in.Answers = append(in.Answers, emulator.Answer{Token: "TokenSFN02", StepName: "StartStateMachine"})
	steps := CallbackSteps(in.Answers)
	if len(steps) != 3 || steps[0] != "RunExternalJob" || steps[2] != "StartStateMachine" {
		t.Errorf("CallbackSteps = %v, want each step once, sorted", steps)
	}
	if toks := in.AllTokens(); len(toks) != 7 {
		t.Errorf("AllTokens = %v, want SageMaker's 4 and the ledger's 3", toks)
	}
}
