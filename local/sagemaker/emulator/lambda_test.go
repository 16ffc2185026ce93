package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

const functionArn = "arn:aws:lambda:us-east-1:123456789012:function:step"

// A Lambda step's event and its one declared output.
var (
	lambdaArgs   = map[string]any{"n": 1}
	answerOutput = emulatortest.Output{Name: "answer", Type: "Integer"}
)

// lambdaFunc is a plain HTTP Lambda endpoint: release lets a blocked call
// finish; calls reports every event received.
type lambdaFunc struct {
	srv     *httptest.Server
	release chan struct{}
	calls   chan map[string]any
}

func newLambda(t *testing.T, block bool, respond func(event map[string]any) string) *lambdaFunc {
	t.Helper()
	f := &lambdaFunc{release: make(chan struct{}), calls: make(chan map[string]any, 10)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev map[string]any
		_ = json.Unmarshal(b, &ev)
		f.calls <- ev
		if block {
			select {
			case <-f.release:
			case <-r.Context().Done():
				return // the step timed out; the "function" would keep running
			}
		}
		_, _ = io.WriteString(w, respond(ev))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func withLambda(url string) envOption {
	return func(o *emulator.Options) {
		o.Lambda = map[string]emulator.LambdaEndpoint{"*": {URL: url}}
	}
}

func TestLambdaStepResults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		response   string
		wantStatus smtypes.StepStatus
		wantReason string
	}{
		{"outputs", `{"answer": 42}`, smtypes.StepStatusSucceeded, ""},
		{"function error", `{"errorMessage":"boom","errorType":"Runtime.Error"}`, smtypes.StepStatusFailed, "boom"},
		{"missing output", `{"other": 1}`, smtypes.StepStatusFailed, `missing the output parameter "answer"`},
		{"not JSON", `Task timed out after 2.00 seconds`, smtypes.StepStatusFailed, "Task timed out"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newLambda(t, false, func(map[string]any) string { return tc.response })
			e := newEnv(t, withLambda(f.srv.URL), realTime)
			arn := e.start(e.createPipeline(emulatortest.Pipeline(emulatortest.Lambda("Fn", functionArn, 60).Args(lambdaArgs).Outputs(answerOutput)).JSON()))
			if ev := <-f.calls; ev["n"] != float64(1) {
				t.Errorf("event %v, want the resolved Arguments {n: 1}", ev)
			}
			want := smtypes.PipelineExecutionStatusSucceeded
			if tc.wantStatus == smtypes.StepStatusFailed {
				want = smtypes.PipelineExecutionStatusFailed
			}
			e.waitStatus(arn, want)
			s := e.steps(arn)["Fn"]
			if s.StepStatus != tc.wantStatus || !strings.Contains(deref(s.FailureReason), tc.wantReason) {
				t.Fatalf("step %s %q, want %s containing %q", s.StepStatus, deref(s.FailureReason), tc.wantStatus, tc.wantReason)
			}
			if *s.Metadata.Lambda.Arn != functionArn {
				t.Errorf("lambda metadata arn %s, want %s", *s.Metadata.Lambda.Arn, functionArn)
			}
			if tc.wantStatus == smtypes.StepStatusSucceeded {
				if out := s.Metadata.Lambda.OutputParameters; len(out) != 1 || *out[0].Value != "42" {
					t.Errorf("outputs %+v, want answer=42", out)
				}
			}
		})
	}
}

func TestLambdaStepDuringStop(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		timeoutSec    float64
		finish        bool
		wantExecution smtypes.PipelineExecutionStatus
		wantStep      smtypes.StepStatus
	}{
		// Timeouts are modelled seconds. The first case runs in real time
		// (600 s: never the thing that ends it); the second at 1/100, so its
		// 300 s timeout is 3 s: long enough for the stop to land first on a
		// busy machine, short enough to wait for.
		{"function finishes: Stopped", 600, true, smtypes.PipelineExecutionStatusStopped, smtypes.StepStatusSucceeded},
		{"step times out: Failed", 300, false, smtypes.PipelineExecutionStatusFailed, smtypes.StepStatusFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newLambda(t, true, func(map[string]any) string { return `{"answer": 1}` })
			opts := []envOption{withLambda(f.srv.URL), realTime}
			if !tc.finish {
				opts = append(opts, func(o *emulator.Options) { o.TimeScale = 0.01 })
			}
			e := newEnv(t, opts...)
			pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Lambda("Fn", functionArn, tc.timeoutSec).Args(lambdaArgs).Outputs(answerOutput), emulatortest.Job("Next", "Processing").Duration(1).After("Fn")).JSON())
			arn := e.start(pipe)
			<-f.calls
			e.stop(arn)
			if got := e.status(arn); got != smtypes.PipelineExecutionStatusStopping {
				t.Fatalf("status after stop = %s, want Stopping while the Lambda step runs", got)
			}
			if tc.finish {
				close(f.release)
			}
			e.waitStatus(arn, tc.wantExecution)
			steps := e.steps(arn)
			if steps["Fn"].StepStatus != tc.wantStep {
				t.Errorf("Lambda step %s, want %s", steps["Fn"].StepStatus, tc.wantStep)
			}
			if _, ok := steps["Next"]; ok {
				t.Error("step Next started after the stop")
			}
			if !tc.finish && !strings.Contains(deref(steps["Fn"].FailureReason), "timeout") {
				t.Errorf("failure reason %q, want it to name the timeout", deref(steps["Fn"].FailureReason))
			}
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
