package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// fakeCoordinator records what the handler asked and answers with the
// test's functions.
type fakeCoordinator struct {
	stopIn  *coordinator.StopInput
	bulkIn  *coordinator.BulkStopInput
	viewArn string
	stopID  string
	resIn   *coordinator.ResourcesInput
	stuckIn *coordinator.StuckStopsInput
	err     error
	stop    coordinator.StopResult
}

func (f *fakeCoordinator) Stop(_ context.Context, in coordinator.StopInput) (coordinator.StopResult, error) {
	f.stopIn = &in
	return f.stop, f.err
}

func (f *fakeCoordinator) BulkStop(_ context.Context, in coordinator.BulkStopInput) (coordinator.BulkStopResult, error) {
	f.bulkIn = &in
	if f.err != nil {
		return coordinator.BulkStopResult{}, f.err
	}
	return coordinator.BulkStopResult{Executions: []coordinator.QueuedStop{{ExecutionARN: "arn:a", StopID: "stop-a"}, {ExecutionARN: "arn:b", StopID: "stop-b"}}}, nil
}

func (f *fakeCoordinator) ViewExecutionRun(_ context.Context, arn string) (coordinator.ExecutionView, error) {
	f.viewArn = arn
	v := fakeView(arn)
	v.PipelineVersion = &coordinator.PipelineVersion{ID: 2, DisplayName: "more-epochs"}
	v.Parameters = []coordinator.Parameter{{Name: "Epochs", Value: "5"}}
	return v, f.err
}

func (f *fakeCoordinator) StuckStops(_ context.Context, in coordinator.StuckStopsInput) (coordinator.StuckStopsResult, error) {
	f.stuckIn = &in
	if f.err != nil {
		return coordinator.StuckStopsResult{}, f.err
	}
	view := fakeView(sampleARN)
	created := time.Unix(1795608000, 0).UTC()
	stop := pipeline.StopRequest{ID: "stop-1", ExecutionARN: sampleARN, Mode: pipeline.StopGraceful, Phase: pipeline.StopIssued, CreatedAt: created}
	return coordinator.StuckStopsResult{AsOf: created.Add(20 * time.Minute), Cursor: "next-page", Stops: []coordinator.StuckStop{
		{Stop: stop, OpenFor: 20 * time.Minute, Execution: &view},
		{Stop: stop, OpenFor: 19 * time.Minute, ViewError: "SageMaker is throttling; try again later"},
	}}, nil
}

func (f *fakeCoordinator) ViewStop(_ context.Context, id string) (pipeline.StopRequest, coordinator.ExecutionView, error) {
	f.stopID = id
	return pipeline.StopRequest{ID: id, ExecutionARN: sampleARN, Mode: pipeline.StopGraceful, Phase: pipeline.StopIssued}, fakeView(sampleARN), f.err
}

func (f *fakeCoordinator) RegisterResources(_ context.Context, in coordinator.ResourcesInput) (pipeline.Token, error) {
	f.resIn = &in
	if f.err != nil {
		return pipeline.Token{}, f.err
	}
	return pipeline.Token{Token: in.Token, ExecutionARN: in.ExecutionARN, State: pipeline.TokenOpen, CleanupPlan: in.Resources}, nil
}

// testHome is where the samples' executions live.
var testHome = executionHome{Region: "us-east-1", Accounts: []string{"123456789012"}}

// fakeView is a Stopping execution as the coordinator shows one.
func fakeView(arn string) coordinator.ExecutionView {
	started := time.Unix(1795608000, 0).UTC()
	return coordinator.ExecutionView{ExecutionARN: arn, PipelineName: "train-model", Status: pipeline.ExecutionStopping, Source: "ledger",
		Attempts: []coordinator.Attempt{{Number: 1, Status: pipeline.ExecutionStopping, StartedAt: &started, StoppingAt: &started}},
		Blocking: coordinator.Blocking{OpenCallbacks: []coordinator.OpenCallback{{StepName: "Wait"}}, RunningLambdas: []coordinator.RunningLambda{}}}
}

const sampleARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train-model/execution/p4jn9xou8a8s"

// TestEverySample pushes each events/apigw sample through the Lambda
// runtime's own decode path and checks the status, the error code and what
// reached the coordinator.
func TestEverySample(t *testing.T) {
	issued := coordinator.StopResult{Created: true, Status: pipeline.ExecutionExecuting,
		Stop: pipeline.StopRequest{ID: "stop-1", ExecutionARN: sampleARN, Mode: pipeline.StopGraceful, Phase: pipeline.StopIssued, CreatedAt: time.Unix(1795608000, 0)}}
	tests := []struct {
		sample     string
		err        error // what the coordinator answers
		wantStatus int
		wantCode   string
		check      func(t *testing.T, f *fakeCoordinator, body map[string]any)
	}{
		{"stop.json", nil, 202, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			in := f.stopIn
			if in.ExecutionARN != sampleARN || in.Key != "ops-2026-11-25-1" || in.Mode != "graceful" || in.Reason != "Cost limit reached" ||
				in.RequestedBy != "arn:aws:sts::123456789012:assumed-role/ops/ops-session" {
				t.Errorf("stop input %+v", in)
			}
			if stop := body["stop"].(map[string]any); stop["id"] != "stop-1" || stop["phase"] != "issued" {
				t.Errorf("stop body %v", stop)
			}
		}},
		{"stop-force.json", nil, 202, "", func(t *testing.T, f *fakeCoordinator, _ map[string]any) {
			if f.stopIn.Mode != "force" || f.stopIn.Key != "" {
				t.Errorf("stop input %+v", f.stopIn)
			}
		}},
		{"stop-base64.json", nil, 202, "", func(t *testing.T, f *fakeCoordinator, _ map[string]any) {
			if f.stopIn.ExecutionARN != sampleARN {
				t.Errorf("base64 body not decoded: %+v", f.stopIn)
			}
		}},
		{"stop-bad-arn.json", pipeline.Errorf(pipeline.EInvalid, "not a pipeline execution ARN"), 400, "invalid", nil},
		{"stop-unknown-field.json", nil, 400, "invalid", notCalled},
		{"stop-malformed.json", nil, 400, "invalid", notCalled},
		{"stop-missing-arn.json", nil, 400, "invalid", notCalled},
		{"stop-bad-mode.json", pipeline.Errorf(pipeline.EInvalid, "mode"), 400, "invalid", nil},
		{"stop-too-large.json", nil, 400, "too_large", notCalled},
		{"stop-unsigned.json", nil, 403, "unauthorized", notCalled},
		{"stop-other-account.json", pipeline.Errorf(pipeline.EUnauthorized, "account"), 403, "unauthorized", nil},
		{"stop-unknown-execution.json", pipeline.Errorf(pipeline.ENotFound, "does not exist"), 404, "not_found", nil},
		{"stop-terminal.json", pipeline.Errorf(pipeline.EConflict, "already ended: Succeeded"), 409, "conflict", nil},
		{"bulk-stop.json", nil, 202, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			if f.bulkIn.PipelineName != "train-model" || f.bulkIn.Reason != "Nightly shutdown of dev pipelines" {
				t.Errorf("bulk input %+v", f.bulkIn)
			}
			if body["count"] != 2.0 || len(body["stops"].([]any)) != 2 {
				t.Errorf("bulk body %v", body)
			}
		}},
		{"bulk-stop-bad-name.json", pipeline.Errorf(pipeline.EInvalid, "not a pipeline name"), 400, "invalid", nil},
		{"get-stop.json", nil, 200, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			if f.stopID != "stop-0123456789abcdef01234567" || body["execution"].(map[string]any)["status"] != "Stopping" {
				t.Errorf("get stop %s body %v", f.stopID, body)
			}
		}},
		{"get-stop-bad-id.json", nil, 400, "invalid", nil},
		{"get-execution.json", nil, 200, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			if f.viewArn != sampleARN {
				t.Errorf("the ARN reached the coordinator as %q, want it URL-decoded", f.viewArn)
			}
			if _, ok := body["blocking"]; !ok {
				t.Errorf("execution body has no blocking: %v", body)
			}
			version, _ := body["pipelineVersion"].(map[string]any)
			params, _ := body["parameters"].([]any)
			attempts, _ := body["attempts"].([]any)
			if version["id"] != 2.0 || version["displayName"] != "more-epochs" || len(params) != 1 || len(attempts) != 1 {
				t.Errorf("execution body lacks its version, parameters or attempts: %v", body)
			}
		}},
		{"get-execution-bad-arn.json", pipeline.Errorf(pipeline.EInvalid, "not a pipeline execution ARN"), 400, "invalid", nil},
		{"unknown-route.json", nil, 404, "not_found", notCalled},
		{"register-resources.json", nil, 200, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			in := f.resIn
			if in.Token != "26vcYbeWsZ" || in.ExecutionARN != sampleARN || len(in.Resources) != 2 || in.Resources[1].Params["jobName"] != "etl" ||
				in.RegisteredBy != "arn:aws:sts::123456789012:assumed-role/etl-worker/worker-session" {
				t.Errorf("resources input %+v", in)
			}
			if plan, _ := body["cleanupPlan"].([]any); len(plan) != 2 || body["state"] != "open" {
				t.Errorf("resources body %v", body)
			}
		}},
		{"register-resources-answered.json", &pipeline.AlreadyAnsweredError{Token: "26vcYbeWsZ", Outcome: pipeline.OutcomeFailure}, 409, "conflict", nil},
		{"register-resources-bad-kind.json", pipeline.Errorf(pipeline.EInvalid, "resource kind"), 400, "invalid", func(t *testing.T, f *fakeCoordinator, _ map[string]any) {
			if f.resIn == nil || f.resIn.Resources[0].Kind != "emr-cluster" {
				t.Errorf("resources input %+v", f.resIn)
			}
		}},
		{"register-resources-missing-arn.json", nil, 400, "invalid", notCalled},
		{"get-pipeline-execution.json", nil, 200, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			if f.viewArn != sampleARN || body["executionArn"] != sampleARN {
				t.Errorf("the path named %q, want %q (body %v)", f.viewArn, sampleARN, body)
			}
		}},
		{"get-pipeline-execution-bad-id.json", nil, 400, "invalid", notCalled},
		{"get-pipeline-execution-other-account.json", nil, 200, "", func(t *testing.T, f *fakeCoordinator, _ map[string]any) {
			if want := strings.Replace(sampleARN, "123456789012", "210987654321", 1); f.viewArn != want {
				t.Errorf("?account= gave %q, want %q", f.viewArn, want)
			}
		}},
		{"stop-pipeline-execution.json", nil, 202, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			in := f.stopIn
			if in.ExecutionARN != sampleARN || in.Mode != "force" || in.Reason != "Cost limit reached" || in.Key != "ops-2026-11-25-2" ||
				in.RequestedBy != "arn:aws:sts::123456789012:assumed-role/ops/ops-session" {
				t.Errorf("stop input %+v", in)
			}
			if stop := body["stop"].(map[string]any); stop["id"] != "stop-1" {
				t.Errorf("stop body %v", stop)
			}
		}},
		{"stop-pipeline-execution-no-body.json", nil, 202, "", func(t *testing.T, f *fakeCoordinator, _ map[string]any) {
			if f.stopIn == nil || f.stopIn.ExecutionARN != sampleARN || f.stopIn.Mode != "" {
				t.Errorf("stop input %+v", f.stopIn)
			}
		}},
		{"stop-pipeline-execution-bad-name.json", nil, 400, "invalid", notCalled},
		{"list-stops.json", nil, 200, "", func(t *testing.T, f *fakeCoordinator, body map[string]any) {
			if in := f.stuckIn; in == nil || in.OpenLongerThan != 15*time.Minute || in.Limit != 2 || in.Cursor != "" {
				t.Errorf("stuck stops input %+v", f.stuckIn)
			}
			stops, _ := body["stops"].([]any)
			if len(stops) != 2 || body["cursor"] != "next-page" || body["openLongerThan"] != "15m0s" {
				t.Fatalf("list body %v", body)
			}
			first := stops[0].(map[string]any)
			blocking := first["execution"].(map[string]any)["blocking"].(map[string]any)
			if first["openForSeconds"] != 1200.0 || first["trigger"] != "api" || len(blocking["openCallbacks"].([]any)) != 1 {
				t.Errorf("first stop %v", first)
			}
			if second := stops[1].(map[string]any); second["execution"] != nil || second["viewError"] == "" {
				t.Errorf("a stop whose view failed: %v", second)
			}
		}},
		{"list-stops-bad-threshold.json", nil, 400, "invalid", notCalled},
	}
	seen := map[string]bool{}
	for _, tt := range tests {
		seen[tt.sample] = true
		t.Run(tt.sample, func(t *testing.T) {
			raw, err := samples.FS.ReadFile("apigw/" + tt.sample)
			if err != nil {
				t.Fatal(err)
			}
			f := &fakeCoordinator{err: tt.err, stop: issued}
			h := &handler{coord: f, maxBodyBytes: DefaultMaxBodyBytes, home: testHome}
			ev, resp := invoke(t, h, raw)
			if tt.sample != "unknown-route.json" { // API Gateway answers routes it does not have itself
				checkOpenAPI(t, ev, resp)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatalf("body is not JSON: %q", resp.Body)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (body %s)", resp.StatusCode, tt.wantStatus, resp.Body)
			}
			if tt.wantCode != "" && body["code"] != tt.wantCode {
				t.Fatalf("code %v, want %s (body %s)", body["code"], tt.wantCode, resp.Body)
			}
			if resp.StatusCode >= 500 {
				t.Fatalf("client mistake answered %d", resp.StatusCode)
			}
			if tt.check != nil {
				tt.check(t, f, body)
			}
		})
	}
	entries, err := samples.FS.ReadDir("apigw")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !seen[e.Name()] {
			t.Errorf("sample %s has no case here", e.Name())
		}
	}
}

func notCalled(t *testing.T, f *fakeCoordinator, _ map[string]any) {
	if f.stopIn != nil || f.bulkIn != nil || f.viewArn != "" || f.stopID != "" || f.resIn != nil || f.stuckIn != nil {
		t.Error("a rejected request reached the coordinator")
	}
}

func TestAlreadyStoppingAnswers200(t *testing.T) {
	raw, _ := samples.FS.ReadFile("apigw/stop.json")
	f := &fakeCoordinator{stop: coordinator.StopResult{AlreadyStopping: true, Stop: pipeline.StopRequest{ID: "stop-x", ExecutionARN: sampleARN, Mode: pipeline.StopGraceful, Phase: pipeline.StopIssued}}}
	resp := invokeChecked(t, &handler{coord: f, maxBodyBytes: DefaultMaxBodyBytes, home: testHome}, raw)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `"alreadyStopping":true`) {
		t.Fatalf("got %d %s, want 200 with the stop under way", resp.StatusCode, resp.Body)
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	raw, _ := samples.FS.ReadFile("apigw/stop.json")
	f := &fakeCoordinator{err: errorString("dial tcp 10.1.2.3:443: connection refused")}
	resp := invokeChecked(t, &handler{coord: f, maxBodyBytes: DefaultMaxBodyBytes, home: testHome}, raw)
	if resp.StatusCode != 500 || strings.Contains(resp.Body, "10.1.2.3") {
		t.Fatalf("got %d %s, want 500 without internals", resp.StatusCode, resp.Body)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

func TestLoadConfig(t *testing.T) {
	_, err := loadConfig(settingsFrom(map[string]string{"STOPCOORD_ALLOWED_ACCOUNTS": "12"}))
	if err == nil || !strings.Contains(err.Error(), "STOPCOORD_TABLE_NAME") || !strings.Contains(err.Error(), "not 12 digits") {
		t.Fatalf("err = %v, want every problem listed", err)
	}
	c, err := loadConfig(settingsFrom(map[string]string{
		"STOPCOORD_TABLE_NAME": "ledger", "STOPCOORD_STOP_QUEUE_URL": "http://q", "STOPCOORD_ALLOWED_ACCOUNTS": "123456789012",
	}))
	if err != nil || c.maxBodyBytes != DefaultMaxBodyBytes || c.access.Accounts[0] != "123456789012" {
		t.Fatalf("config %+v, %v", c, err)
	}
}

func settingsFrom(m map[string]string) *settings.Env { return settings.FromMap(m) }
