package pipeline_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

const validARN = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train-model/execution/p4jn9xou8a8s"

func TestParseExecutionARN(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantCode string
		want     pipeline.ExecutionARN
	}{
		{"valid", validARN, "", pipeline.ExecutionARN{Partition: "aws", Region: "us-east-1", Account: "123456789012", Pipeline: "train-model", ExecutionID: "p4jn9xou8a8s"}},
		{"china partition", "arn:aws-cn:sagemaker:cn-north-1:123456789012:pipeline/p/execution/abc", "", pipeline.ExecutionARN{Partition: "aws-cn", Region: "cn-north-1", Account: "123456789012", Pipeline: "p", ExecutionID: "abc"}},
		{"gov region", "arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:pipeline/p/execution/abc", "", pipeline.ExecutionARN{Partition: "aws-us-gov", Region: "us-gov-west-1", Account: "123456789012", Pipeline: "p", ExecutionID: "abc"}},
		{"empty", "", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"not an arn", "hello", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"other service", "arn:aws:s3:us-east-1:123456789012:pipeline/p/execution/abc", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"bad partition", "arn:azure:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"bad region", "arn:aws:sagemaker:useast1:123456789012:pipeline/p/execution/abc", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"short account", "arn:aws:sagemaker:us-east-1:12345:pipeline/p/execution/abc", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"pipeline arn only", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"training job", "arn:aws:sagemaker:us-east-1:123456789012:training-job/t", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"underscore in name", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/my_pipe/execution/abc", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"trailing slash", validARN + "/", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"empty id", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"id with dash", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/a-b", pipeline.EInvalid, pipeline.ExecutionARN{}},
		{"too long", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/" + strings.Repeat("a", 2100) + "/execution/abc", pipeline.EInvalid, pipeline.ExecutionARN{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pipeline.ParseExecutionARN(tt.in)
			if code := pipeline.Code(err); code != tt.wantCode {
				t.Fatalf("ParseExecutionARN(%q) code = %q, want %q (err: %v)", tt.in, code, tt.wantCode, err)
			}
			if got != tt.want {
				t.Fatalf("ParseExecutionARN(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if err == nil && got.String() != tt.in {
				t.Fatalf("String() = %q, want the input %q", got.String(), tt.in)
			}
		})
	}
}

func TestPipelineARN(t *testing.T) {
	a, err := pipeline.ParseExecutionARN(validARN)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.PipelineARN(), "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train-model"; got != want {
		t.Fatalf("PipelineARN() = %q, want %q", got, want)
	}
}

func TestExecutionTransitions(t *testing.T) {
	tests := []struct {
		from, to pipeline.ExecutionStatus
		want     bool
	}{
		{"", pipeline.ExecutionExecuting, true},
		{pipeline.ExecutionExecuting, pipeline.ExecutionStopping, true},
		{pipeline.ExecutionExecuting, pipeline.ExecutionStopped, true}, // Stopping event missed
		{pipeline.ExecutionExecuting, pipeline.ExecutionSucceeded, true},
		{pipeline.ExecutionStopping, pipeline.ExecutionStopped, true},
		{pipeline.ExecutionStopping, pipeline.ExecutionFailed, true}, // Lambda step timed out
		{pipeline.ExecutionStopping, pipeline.ExecutionExecuting, false},
		{pipeline.ExecutionExecuting, pipeline.ExecutionExecuting, false},
		{pipeline.ExecutionStopped, pipeline.ExecutionFailed, false},
		{pipeline.ExecutionSucceeded, pipeline.ExecutionExecuting, false},
		{pipeline.ExecutionFailed, pipeline.ExecutionStopping, false},
		{pipeline.ExecutionExecuting, "Paused", false},
	}
	for _, tt := range tests {
		if got := tt.from.CanTransition(tt.to); got != tt.want {
			t.Errorf("%q.CanTransition(%q) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestStepTransitions(t *testing.T) {
	tests := []struct {
		from, to pipeline.StepStatus
		want     bool
	}{
		{"", pipeline.StepStarting, true},
		{pipeline.StepStarting, pipeline.StepExecuting, true},
		{pipeline.StepStarting, pipeline.StepStopped, true},
		{pipeline.StepExecuting, pipeline.StepStopping, true},
		{pipeline.StepStopping, pipeline.StepSucceeded, true},
		{pipeline.StepExecuting, pipeline.StepStarting, false},
		{pipeline.StepStopped, pipeline.StepExecuting, false},
		{pipeline.StepFailed, pipeline.StepSucceeded, false},
	}
	for _, tt := range tests {
		if got := tt.from.CanTransition(tt.to); got != tt.want {
			t.Errorf("%q.CanTransition(%q) = %v, want %v", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestParseStatuses(t *testing.T) {
	for _, s := range []string{"Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures"} {
		if _, err := pipeline.ParseExecutionStatus(s); err != nil {
			t.Errorf("ParseExecutionStatus(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "executing", "Starting", "Done"} {
		if _, err := pipeline.ParseExecutionStatus(s); pipeline.Code(err) != pipeline.EInvalid {
			t.Errorf("ParseExecutionStatus(%q) err = %v, want code invalid", s, err)
		}
	}
	for _, s := range []string{"Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded"} {
		if _, err := pipeline.ParseStepStatus(s); err != nil {
			t.Errorf("ParseStepStatus(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "Running", "stopped"} {
		if _, err := pipeline.ParseStepStatus(s); pipeline.Code(err) != pipeline.EInvalid {
			t.Errorf("ParseStepStatus(%q) err = %v, want code invalid", s, err)
		}
	}
	for s, terminal := range map[pipeline.ExecutionStatus]bool{"Executing": false, "Stopping": false, "Stopped": true, "Failed": true, "Succeeded": true} {
		if got := s.Terminal(); got != terminal {
			t.Errorf("%q.Terminal() = %v, want %v", s, got, terminal)
		}
	}
}

func TestValidateCallbackToken(t *testing.T) {
	tests := []struct {
		token string
		ok    bool
	}{
		{"26vcYbeWsZ", true},
		{"0123456789", true},
		{"", false},
		{"26vcYbeWs", false},
		{"26vcYbeWsZZ", false},
		{"26vcYbe-sZ", false},
		{"26vcYbeWs\x00", false},
		{"26vcYbeWsé", false},
	}
	for _, tt := range tests {
		err := pipeline.ValidateCallbackToken(tt.token)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateCallbackToken(%q) = %v, want ok=%v", tt.token, err, tt.ok)
		}
		if err != nil && pipeline.Code(err) != pipeline.EInvalid {
			t.Errorf("ValidateCallbackToken(%q) code = %q, want invalid", tt.token, pipeline.Code(err))
		}
	}
}

func TestRequestToken(t *testing.T) {
	a := pipeline.RequestToken("stop", validARN)
	if a != pipeline.RequestToken("stop", validARN) {
		t.Fatal("same input gave different tokens")
	}
	if n := len(a); n < pipeline.MinRequestTokenLength || n > pipeline.MaxRequestTokenLength {
		t.Fatalf("token length %d outside %d..%d", n, pipeline.MinRequestTokenLength, pipeline.MaxRequestTokenLength)
	}
	distinct := map[string]bool{
		a:                                       true,
		pipeline.RequestToken("fail", validARN): true,
		pipeline.RequestToken("stop", validARN+"x"): true,
		pipeline.RequestToken("stop", "ab", "c"):    true,
		pipeline.RequestToken("stop", "a", "bc"):    true,
	}
	if len(distinct) != 5 {
		t.Fatalf("different inputs collided: %d distinct tokens of 5", len(distinct))
	}
}

func TestErrorCodes(t *testing.T) {
	wrapped := fmt.Errorf("stop %s: %w", validARN, pipeline.Errorf(pipeline.ENotFound, "no such execution"))
	if got := pipeline.Code(wrapped); got != pipeline.ENotFound {
		t.Errorf("Code(wrapped) = %q, want not_found", got)
	}
	if got := pipeline.Message(wrapped); got != "no such execution" {
		t.Errorf("Message(wrapped) = %q", got)
	}
	plain := errors.New("dial tcp: secret host")
	if pipeline.Code(plain) != pipeline.EInternal || pipeline.Message(plain) != "internal error" {
		t.Errorf("plain error leaked: code %q message %q", pipeline.Code(plain), pipeline.Message(plain))
	}
	if pipeline.Code(nil) != "" || pipeline.Message(nil) != "" {
		t.Error("nil error has a code or message")
	}
}

func TestParseStopMode(t *testing.T) {
	for in, want := range map[string]pipeline.StopMode{"": pipeline.StopGraceful, "graceful": pipeline.StopGraceful, "force": pipeline.StopForce} {
		got, err := pipeline.ParseStopMode(in)
		if err != nil || got != want {
			t.Errorf("ParseStopMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := pipeline.ParseStopMode("FORCE"); pipeline.Code(err) != pipeline.EInvalid {
		t.Errorf("ParseStopMode(FORCE) err = %v, want invalid", err)
	}
}

func TestStopBehaviour(t *testing.T) {
	for kind, want := range map[pipeline.StepKind]pipeline.StopBehaviour{
		pipeline.KindCallback: pipeline.BlocksUntilAnswered,
		pipeline.KindLambda:   pipeline.BlocksUntilFinished,
		pipeline.KindTraining: pipeline.StoppedBySageMaker,
		"QualityCheck":        pipeline.StoppedBySageMaker,
	} {
		if got := kind.StopBehaviour(); got != want {
			t.Errorf("%q.StopBehaviour() = %v, want %v", kind, got, want)
		}
	}
}
