package emulator_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestEventsForEveryTransition runs a callback and a job step to success and
// checks every event on the bus (via the rule into SQS) and in the file.
func TestEventsForEveryTransition(t *testing.T) {
	t.Parallel()
	e := newEnvWithBus(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("Train", "Training").Duration(1), emulatortest.Callback("Wait", e.queueURL).After("Train")).JSON())
	arn := e.start(pipe)
	token := e.callbackMessages(1)[0]["token"].(string)
	if _, err := e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{CallbackToken: aws.String(token)}); err != nil {
		t.Fatal(err)
	}
	e.waitStatus(arn, "Succeeded")

	// 2 execution events + 3 per step.
	const want = 2 + 3 + 3
	var bus []event
	for _, b := range e.receive(e.eventsURL, want) {
		var ev event
		if err := json.Unmarshal([]byte(b), &ev); err != nil {
			t.Fatalf("event %s: %v", b, err)
		}
		bus = append(bus, ev)
	}
	emulatortest.WaitFor(t, func() (bool, string) {
		n := len(e.fileEvents())
		return n == want, "events in file: " + itoa(n)
	})
	file := e.fileEvents()

	for name, evs := range map[string][]event{"bus": bus, "file": file} {
		tr := transitions(evs, arn)
		wantTr := map[string][]string{
			"execution": {"->Executing", "Executing->Succeeded"},
			"Train":     {"->Starting", "Starting->Executing", "Executing->Succeeded"},
			"Wait":      {"->Starting", "Starting->Executing", "Executing->Succeeded"},
		}
		for k, w := range wantTr {
			if !slices.Equal(tr[k], w) {
				t.Errorf("%s: transitions of %s = %v, want %v", name, k, tr[k], w)
			}
		}
		for _, ev := range evs {
			if ev.Source != "aws.sagemaker" || len(ev.Resources) != 2 || ev.Resources[1] != arn {
				t.Errorf("%s: envelope %+v, want source aws.sagemaker and resources [pipeline, %s]", name, ev, arn)
			}
		}
	}
	for _, ev := range file {
		d := ev.Detail
		switch ev.DetailType {
		case "SageMaker Model Building Pipeline Execution Status Change":
			for _, k := range []string{"currentPipelineExecutionStatus", "executionStartTime", "pipelineArn", "pipelineExecutionArn", "pipelineExecutionDisplayName"} {
				if d[k] == nil {
					t.Errorf("execution event %v lacks %s", d, k)
				}
			}
			if _, err := time.Parse(time.RFC3339, d["executionStartTime"].(string)); err != nil {
				t.Errorf("executionStartTime: %v", err)
			}
			if d["currentPipelineExecutionStatus"] == "Succeeded" && d["executionEndTime"] == nil {
				t.Errorf("terminal execution event %v lacks executionEndTime", d)
			}
		case "SageMaker Model Building Pipeline Execution Step Status Change":
			for _, k := range []string{"currentStepStatus", "stepName", "stepType", "stepStartTime", "metadata", "pipelineArn", "pipelineExecutionArn"} {
				if d[k] == nil {
					t.Errorf("step event %v lacks %s", d, k)
				}
			}
			md, _ := d["metadata"].(map[string]any)
			if d["currentStepStatus"] == "Succeeded" {
				switch d["stepName"] {
				case "Wait":
					cb, _ := md["callback"].(map[string]any)
					if cb["callbackToken"] != token || cb["sqsQueueUrl"] != e.queueURL {
						t.Errorf("callback metadata %v, want token %s", md, token)
					}
				case "Train":
					tj, _ := md["trainingJob"].(map[string]any)
					if arnStr, _ := tj["arn"].(string); arnStr == "" {
						t.Errorf("training metadata %v, want an arn", md)
					}
				}
				if d["stepEndTime"] == nil {
					t.Errorf("terminal step event %v lacks stepEndTime", d)
				}
			}
		default:
			t.Errorf("unexpected detail-type %q", ev.DetailType)
		}
	}
}
