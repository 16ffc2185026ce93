package emulator_test

import (
	"testing"

	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestLambdaStepUnderRIE runs a Lambda step against a real Go bootstrap
// under aws-lambda-rie: the function's output becomes the step's output,
// and a stop during the call waits for the function, then ends Stopped.
func TestLambdaStepUnderRIE(t *testing.T) {
	fn := rie.StartT(t, rie.Spec{Bootstrap: rie.BuildT(t, "./testdata/lambdastep"), Name: "step"})
	e := newEnv(t, realTime, func(o *emulator.Options) {
		o.Lambda = map[string]emulator.LambdaEndpoint{"*": {URL: fn.URL, RIE: true}}
	})
	step := func(sleepMs int) emulatortest.Step {
		// In real time the 600 s timeout never ends a 300 ms call, however
		// busy the machine.
		return emulatortest.Lambda("Fn", functionArn, 600).Args(map[string]any{"n": 21, "sleepMs": sleepMs}).Outputs(answerOutput)
	}

	// The function finishes: its output is the step's output.
	arn := e.start(e.createPipeline(emulatortest.Pipeline(step(0)).JSON()))
	e.waitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)
	out := e.steps(arn)["Fn"].Metadata.Lambda.OutputParameters
	if len(out) != 1 || deref(out[0].Value) != "42" {
		t.Fatalf("outputs %+v, want answer=42 from the function\n%s", out, fn.Output())
	}

	// A stop while the function runs waits for it, then ends Stopped.
	{
		arn := e.start(e.createPipeline(emulatortest.Pipeline(step(300), emulatortest.Job("Next", "Processing").Duration(1).After("Fn")).JSON()))
		e.waitStep(arn, "Fn", smtypes.StepStatusExecuting)
		e.stop(arn)
		if got := e.status(arn); got != smtypes.PipelineExecutionStatusStopping {
			t.Fatalf("status after stop = %s, want Stopping while the function runs", got)
		}
		e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
		steps := e.steps(arn)
		if steps["Fn"].StepStatus != smtypes.StepStatusSucceeded {
			t.Fatalf("Lambda step %s, want Succeeded (it finished)", steps["Fn"].StepStatus)
		}
		if _, ok := steps["Next"]; ok {
			t.Fatal("step Next started after the stop")
		}
	}
}
