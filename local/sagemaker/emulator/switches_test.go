package emulator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

func withSwitches(s emulator.Switches) envOption {
	return func(o *emulator.Options) { o.Switches = s }
}

func TestCallbackMessageSwitches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		switches emulator.Switches
		check    func(t *testing.T, start, stopping callbackMessage)
	}{
		{"defaults", emulator.Switches{}, func(t *testing.T, start, stopping callbackMessage) {
			if start["status"] != "Executing" || stopping["status"] != "Stopping" || start["token"] != stopping["token"] {
				t.Errorf("start %v stopping %v, want status key, same token", start, stopping)
			}
		}},
		{"Status key", emulator.Switches{StatusKey: "Status"}, func(t *testing.T, start, stopping callbackMessage) {
			if start["Status"] != "Executing" || stopping["Status"] != "Stopping" || stopping["status"] != nil {
				t.Errorf("start %v stopping %v, want a Status key only", start, stopping)
			}
		}},
		{"no status in the start message", emulator.Switches{OmitStartStatus: true}, func(t *testing.T, start, stopping callbackMessage) {
			if _, ok := start["status"]; ok || len(start) != 3 || stopping["status"] != "Stopping" {
				t.Errorf("start %v stopping %v, want 3 keys at start", start, stopping)
			}
		}},
		{"new token in the Stopping message", emulator.Switches{NewStoppingToken: true}, func(t *testing.T, start, stopping callbackMessage) {
			if start["token"] == stopping["token"] || !tokenPattern.MatchString(stopping["token"].(string)) {
				t.Errorf("start token %v stopping token %v, want a different valid token", start["token"], stopping["token"])
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, withSwitches(tc.switches))
			arn := e.start(e.createPipeline(emulatortest.Pipeline(emulatortest.Callback("Wait", e.queueURL)).JSON()))
			start := e.callbackMessages(1)[0]
			e.waitStep(arn, "Wait", smtypes.StepStatusExecuting)
			e.stop(arn)
			stopping := e.callbackMessages(1)[0]
			tc.check(t, start, stopping)
			// Answering with the Stopping message's token always works.
			tok, _ := stopping["token"].(string)
			if tok == "" {
				tok, _ = stopping["Token"].(string)
			}
			if _, err := e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{CallbackToken: aws.String(tok)}); err != nil {
				t.Fatalf("answer with the stopping token: %v", err)
			}
			e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
		})
	}
}

func TestDropStoppingMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, withSwitches(emulator.Switches{DropStoppingMessage: 1}))
	arn := e.start(e.createPipeline(emulatortest.Pipeline(emulatortest.Callback("Wait", e.queueURL)).JSON()))
	token := e.callbackMessages(1)[0]["token"].(string)
	e.waitStep(arn, "Wait", smtypes.StepStatusExecuting)
	e.stop(arn)
	e.waitStep(arn, "Wait", smtypes.StepStatusStopping)
	out, err := e.sqs.ReceiveMessage(e.ctx, receiveInput(e.queueURL, 1))
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("got %v %v, want no Stopping message", out, err)
	}
	if got := e.status(arn); got != smtypes.PipelineExecutionStatusStopping {
		t.Fatalf("status %s, want Stopping (the lost message blocks the stop)", got)
	}
	// The sweeper's way out: answer with the token from the start message.
	if _, err := e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{CallbackToken: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
}

func TestEventSwitches(t *testing.T) {
	t.Parallel()
	def := emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1), emulatortest.Job("B", "Training").Duration(1).After("A")).JSON()
	t.Run("duplicates", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withSwitches(emulator.Switches{DuplicateEvents: 1}))
		arn := e.start(e.createPipeline(def))
		tr := e.doneTransitions(arn)
		want := []string{"->Starting", "->Starting", "Starting->Executing", "Starting->Executing", "Executing->Succeeded", "Executing->Succeeded"}
		if !equal(tr["A"], want) {
			t.Errorf("A transitions %v, want each twice %v", tr["A"], want)
		}
	})
	t.Run("reordered", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, withSwitches(emulator.Switches{ReorderEvents: 1}))
		arn := e.start(e.createPipeline(def))
		e.waitStatus(arn, smtypes.PipelineExecutionStatusSucceeded)
		var evs []event
		emulatortest.WaitFor(t, func() (bool, string) {
			evs = e.fileEvents()
			return len(evs) == 8, "events: " + itoa(len(evs))
		})
		// Every pair is swapped: the step's Starting event comes before
		// the execution's Executing event.
		if evs[0].DetailType != "SageMaker Model Building Pipeline Execution Step Status Change" ||
			evs[1].Detail["currentPipelineExecutionStatus"] != "Executing" {
			t.Errorf("first events %v / %v, want the second event first", evs[0].Detail, evs[1].Detail)
		}
	})
}
