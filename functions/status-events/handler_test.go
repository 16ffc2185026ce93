package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// fakes records what the handler asked of the use cases; each answer can be
// set per test.
type fakes struct {
	executions []pipeline.ExecutionChange
	steps      []pipeline.StepChange
	stops      []coordinator.StopInput
	bulk       []coordinator.BulkStopInput
	recordErr  error
	stopErr    error
}

func (f *fakes) RecordExecution(_ context.Context, c pipeline.ExecutionChange) (coordinator.Recorded, error) {
	f.executions = append(f.executions, c)
	return coordinator.Recorded{}, f.recordErr
}

func (f *fakes) RecordStep(_ context.Context, c pipeline.StepChange) (coordinator.Recorded, error) {
	f.steps = append(f.steps, c)
	return coordinator.Recorded{}, f.recordErr
}

func (f *fakes) Stop(_ context.Context, in coordinator.StopInput) (coordinator.StopResult, error) {
	f.stops = append(f.stops, in)
	return coordinator.StopResult{}, f.stopErr
}

func (f *fakes) BulkStop(_ context.Context, in coordinator.BulkStopInput) (coordinator.BulkStopResult, error) {
	f.bulk = append(f.bulk, in)
	return coordinator.BulkStopResult{}, f.stopErr
}

func invoke(t *testing.T, f *fakes, sample string) error {
	t.Helper()
	raw, err := samples.FS.ReadFile("eventbridge/" + sample)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lambda.NewHandler(newTestHandler(f).handle).Invoke(context.Background(), raw)
	return err
}

func newTestHandler(f *fakes) *handler {
	return &handler{status: f, stops: f, access: pipeline.AllowList{Accounts: []string{"123456789012"}, Pipelines: []string{"dev-*"}}}
}

// TestEventsOutsideTheAllowListAreIgnored (issue 12, cases 5 and 6): status
// events of pipelines stopcoord may not act on are not recorded, and Stop
// Requested events count only from stopcoord's accounts; the requester is
// recorded from the event.
func TestEventsOutsideTheAllowListAreIgnored(t *testing.T) {
	f := &fakes{}
	h := newTestHandler(f)
	for _, tc := range []struct{ sample, from, to string }{
		{"execution-executing.json", "dev-train", "prod-payments"},
		{"step-executing-callback.json", "dev-train", "prod-payments"},
		{"stop-requested-execution.json", `"account": "123456789012"`, `"account": "999999999999"`},
	} {
		raw, err := samples.FS.ReadFile("eventbridge/" + tc.sample)
		if err != nil {
			t.Fatal(err)
		}
		foreign := strings.ReplaceAll(string(raw), tc.from, tc.to)
		if _, err := lambda.NewHandler(h.handle).Invoke(context.Background(), []byte(foreign)); err != nil {
			t.Fatalf("%s from outside: %v, want it ignored without a retry", tc.sample, err)
		}
	}
	if len(f.executions) != 0 || len(f.steps) != 0 || len(f.stops) != 0 || h.ignored.Load() != 2 {
		t.Fatalf("recorded %d executions, %d steps, %d stops from outside (%d counted as ignored); want none recorded, 2 ignored", len(f.executions), len(f.steps), len(f.stops), h.ignored.Load())
	}
	if err := invoke(t, f, "stop-requested-execution.json"); err != nil {
		t.Fatal(err)
	}
	if len(f.stops) != 1 || !strings.Contains(f.stops[0].RequestedBy, "account 123456789012") || !strings.Contains(f.stops[0].RequestedBy, "event ") {
		t.Fatalf("stops %+v, want one with the requesting account and event recorded", f.stops)
	}
}

const sampleARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/dev-train/execution/p4jn9xou8a8s"

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSageMakerEventsBecomeLedgerChanges(t *testing.T) {
	tests := []struct {
		sample string
		check  func(*fakes) string // "" when right, else what is wrong
	}{
		{"execution-executing.json", func(f *fakes) string {
			c := f.executions[0]
			if c.ARN.String() != sampleARN || c.Status != pipeline.ExecutionExecuting || !c.At.Equal(at("2026-11-25T12:00:00Z")) || !c.StartedAt.Equal(c.At) || c.DisplayName != "nightly-train" {
				return "executing change " + spew(c)
			}
			return ""
		}},
		{"execution-stopping.json", func(f *fakes) string {
			if c := f.executions[0]; c.Status != pipeline.ExecutionStopping || !c.At.Equal(at("2026-11-25T12:10:00Z")) {
				return "stopping change at the envelope time " + spew(c)
			}
			return ""
		}},
		{"execution-stopped.json", func(f *fakes) string {
			if c := f.executions[0]; c.Status != pipeline.ExecutionStopped || !c.At.Equal(at("2026-11-25T12:12:30Z")) || !c.EndedAt.Equal(c.At) {
				return "stopped change at the end time " + spew(c)
			}
			return ""
		}},
		{"execution-failed.json", func(f *fakes) string {
			if f.executions[0].Status != pipeline.ExecutionFailed {
				return spew(f.executions[0])
			}
			return ""
		}},
		{"execution-succeeded.json", func(f *fakes) string {
			if f.executions[0].Status != pipeline.ExecutionSucceeded {
				return spew(f.executions[0])
			}
			return ""
		}},
		{"step-starting.json", func(f *fakes) string {
			if c := f.steps[0]; c.Status != pipeline.StepStarting || c.Kind != pipeline.KindProcessing || c.Metadata != nil || !c.At.Equal(at("2026-11-25T12:00:05Z")) {
				return spew(c)
			}
			return ""
		}},
		{"step-executing-processing.json", func(f *fakes) string {
			if c := f.steps[0]; c.JobARN == "" || !strings.Contains(c.JobARN, "processing-job/") || c.Metadata["processingJob"] == nil {
				return "job ARN and metadata " + spew(c)
			}
			return ""
		}},
		{"step-executing-callback.json", func(f *fakes) string {
			if c := f.steps[0]; c.Kind != pipeline.KindCallback || c.CallbackToken != "Ab3dE5gH7j" || c.StepName != "WaitForGlue" {
				return "callback token " + spew(c)
			}
			return ""
		}},
		{"step-executing-lambda.json", func(f *fakes) string {
			if c := f.steps[0]; c.Kind != pipeline.KindLambda || c.FunctionARN != "arn:aws:lambda:us-east-1:123456789012:function:score" {
				return "function ARN " + spew(c)
			}
			return ""
		}},
		{"step-stopping.json", func(f *fakes) string {
			if c := f.steps[0]; c.Status != pipeline.StepStopping || !c.At.Equal(at("2026-11-25T12:10:00Z")) {
				return spew(c)
			}
			return ""
		}},
		{"step-stopped.json", func(f *fakes) string {
			if c := f.steps[0]; c.Status != pipeline.StepStopped || !c.EndedAt.Equal(at("2026-11-25T12:12:30Z")) {
				return spew(c)
			}
			return ""
		}},
		{"step-failed.json", func(f *fakes) string {
			if c := f.steps[0]; c.Status != pipeline.StepFailed || c.FailureReason != "Lambda function returned an error: model not found" || !c.At.Equal(at("2026-11-25T12:19:59Z")) {
				return spew(c)
			}
			return ""
		}},
		{"step-succeeded.json", func(f *fakes) string {
			if c := f.steps[0]; c.Status != pipeline.StepSucceeded || c.JobARN == "" {
				return spew(c)
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			f := &fakes{}
			if err := invoke(t, f, tt.sample); err != nil {
				t.Fatalf("handle %s: %v", tt.sample, err)
			}
			if len(f.executions)+len(f.steps) != 1 || len(f.stops)+len(f.bulk) != 0 {
				t.Fatalf("%s: %d execution and %d step changes, %d stops; want one change", tt.sample, len(f.executions), len(f.steps), len(f.stops)+len(f.bulk))
			}
			if problem := tt.check(f); problem != "" {
				t.Fatalf("%s: %s", tt.sample, problem)
			}
		})
	}
}

func TestStopRequestedEventsStopThroughTheUseCase(t *testing.T) {
	tests := []struct {
		name    string
		sample  string
		stopErr error
		wantErr bool
		check   func(*fakes) string
	}{
		{"one execution, keyed by the event id", "stop-requested-execution.json", nil, false, func(f *fakes) string {
			want := coordinator.StopInput{ExecutionARN: sampleARN, Reason: "budget alarm", Mode: "graceful", Key: "event:0d9e8f7a-2222-4b3c-9d4e-000000000001", RequestedBy: "eventbridge stopcoord account 123456789012 event 0d9e8f7a-2222-4b3c-9d4e-000000000001"}
			if len(f.stops) != 1 || f.stops[0] != want {
				return spew(f.stops)
			}
			return ""
		}},
		{"a whole pipeline goes through the bulk stop", "stop-requested-pipeline.json", nil, false, func(f *fakes) string {
			if len(f.bulk) != 1 || f.bulk[0].PipelineName != "dev-train" || f.bulk[0].Mode != "force" || f.bulk[0].Key != "event:0d9e8f7a-2222-4b3c-9d4e-000000000002" {
				return spew(f.bulk)
			}
			return ""
		}},
		{"the nightly schedule's constant input", "scheduled-stop.json", nil, false, func(f *fakes) string {
			if len(f.bulk) != 1 || f.bulk[0].Reason != "nightly stop of dev pipelines" {
				return spew(f.bulk)
			}
			return ""
		}},
		{"an ended execution needs nothing", "stop-requested-execution.json", pipeline.Errorf(pipeline.EConflict, "execution has already ended"), false, nil},
		{"an execution not allowed needs nothing", "stop-requested-execution.json", pipeline.Errorf(pipeline.EUnauthorized, "no"), false, nil},
		{"throttling is retried", "stop-requested-execution.json", pipeline.Errorf(pipeline.EThrottled, "slow down"), true, nil},
		{"an invalid request goes to the DLQ", "stop-requested-pipeline.json", pipeline.Errorf(pipeline.EInvalid, "bad mode"), true, nil},
		{"unknown detail field", "stop-requested-unknown-field.json", nil, true, func(f *fakes) string {
			if len(f.bulk)+len(f.stops) != 0 {
				return "stopped on a malformed event"
			}
			return ""
		}},
		{"both an execution and a pipeline", "stop-requested-both.json", nil, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{stopErr: tt.stopErr}
			err := invoke(t, f, tt.sample)
			if (err != nil) != tt.wantErr {
				t.Fatalf("handle %s with stop error %v: err = %v, want error %v", tt.sample, tt.stopErr, err, tt.wantErr)
			}
			if tt.check != nil {
				if problem := tt.check(f); problem != "" {
					t.Fatalf("%s: %s", tt.sample, problem)
				}
			}
		})
	}
}

func TestOtherEventsAreIgnoredAndBadOnesFail(t *testing.T) {
	tests := []struct {
		name      string
		sample    string
		recordErr error
		wantErr   bool
	}{
		{"the sweeper's schedule", "scheduled-event.json", nil, false},
		{"another source", "unknown-source.json", nil, false},
		{"malformed step detail", "step-malformed.json", nil, true},
		{"ledger failure is retried", "step-starting.json", pipeline.Errorf(pipeline.EUnavailable, "dynamodb down"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakes{recordErr: tt.recordErr}
			if err := invoke(t, f, tt.sample); (err != nil) != tt.wantErr {
				t.Fatalf("handle %s: err = %v, want error %v", tt.sample, err, tt.wantErr)
			}
			if tt.recordErr == nil && len(f.executions)+len(f.steps)+len(f.stops)+len(f.bulk) != 0 {
				t.Fatalf("handle %s called the use cases: %s", tt.sample, spew(f))
			}
		})
	}
}

func TestLoadConfigListsEveryProblem(t *testing.T) {
	_, err := loadConfig(settings.FromMap(map[string]string{
		settings.Policies:                `{"allowedPipelines":["dev-*"],"policies":[{"pipelines":["["]}]}`,
		settings.AllowedPipelines:        "train-*",
		settings.SageMakerCallsPerSecond: "0",
	}))
	for _, want := range []string{settings.TableName, settings.StopQueueURL, settings.AllowedAccounts, settings.SageMakerCallsPerSecond, "policies[0].pipelines[0]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("loadConfig error %v lacks %s", err, want)
		}
	}
	cfg, err := loadConfig(settings.FromMap(map[string]string{
		settings.TableName: "t", settings.StopQueueURL: "q", settings.AllowedAccounts: "123456789012",
		settings.Policies: `{"allowedPipelines":["dev-*"],"policies":[{"pipelines":["dev-*"],"failFast":true}]}`,
	}))
	if err != nil || len(cfg.access.Pipelines) != 1 || cfg.access.Pipelines[0] != "dev-*" || !cfg.policies.FailFast("dev-a") {
		t.Fatalf("loadConfig = %+v, %v; want the policies' allow-list", cfg, err)
	}
}

func spew(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
