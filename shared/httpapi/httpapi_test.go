package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/httpapi"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

type stopBody struct {
	PipelineExecutionARN string `json:"pipelineExecutionArn"`
	Reason               string `json:"reason"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		base64   bool
		wantCode string
		wantMsg  string
	}{
		{"valid", `{"pipelineExecutionArn":"a","reason":"r"}`, false, "", ""},
		{"valid base64", `{"reason":"r"}`, true, "", ""},
		{"empty", "  ", false, pipeline.EInvalid, "empty"},
		{"malformed", `{"reason":`, false, pipeline.EInvalid, "malformed JSON"},
		{"unknown field", `{"reason":"r","force":true}`, false, pipeline.EInvalid, `unknown field "force"`},
		{"wrong type", `{"reason":5}`, false, pipeline.EInvalid, `field "reason" must be a string`},
		{"two values", `{} {}`, false, pipeline.EInvalid, "more than one"},
		{"too large", `{"reason":"` + strings.Repeat("x", 200) + `"}`, false, httpapi.CodeTooLarge, "over 128 bytes"},
		{"too large base64", `{"reason":"` + strings.Repeat("x", 200) + `"}`, true, httpapi.CodeTooLarge, "over 128 bytes"},
		{"bad base64", `!!!`, false, pipeline.EInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := events.APIGatewayV2HTTPRequest{Body: tt.body, IsBase64Encoded: tt.base64}
			if tt.base64 {
				req.Body = base64.StdEncoding.EncodeToString([]byte(tt.body))
			}
			if tt.name == "bad base64" {
				req.IsBase64Encoded = true
			}
			var v stopBody
			err := httpapi.Decode(req, 128, &v)
			if got := pipeline.Code(err); got != tt.wantCode {
				t.Fatalf("Decode(%q) code = %q, want %q (err %v)", tt.body, got, tt.wantCode, err)
			}
			if tt.wantMsg != "" && !strings.Contains(pipeline.Message(err), tt.wantMsg) {
				t.Fatalf("Decode(%q) message = %q, want it to contain %q", tt.body, pipeline.Message(err), tt.wantMsg)
			}
		})
	}
}

func TestErrorResponses(t *testing.T) {
	tests := []struct {
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{pipeline.Errorf(pipeline.EInvalid, "bad arn"), 400, "invalid", "bad arn"},
		{fmt.Errorf("stop x: %w", pipeline.Errorf(pipeline.ENotFound, "no such execution")), 404, "not_found", "no such execution"},
		{pipeline.Errorf(pipeline.EUnauthorized, "pipeline not allowed"), 403, "unauthorized", "pipeline not allowed"},
		{pipeline.Errorf(pipeline.EConflict, "already stopped"), 409, "conflict", "already stopped"},
		{pipeline.Errorf(pipeline.EThrottled, "slow down"), 429, "throttled", "slow down"},
		{pipeline.Errorf(pipeline.EUnavailable, "SageMaker failed"), 502, "unavailable", "SageMaker failed"},
		{errors.New("dial tcp 10.0.0.1: secret"), 500, "internal", "internal error"},
	}
	for _, tt := range tests {
		resp := httpapi.Error(context.Background(), tt.err)
		var body httpapi.ErrorBody
		if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
			t.Fatalf("body %q is not JSON: %v", resp.Body, err)
		}
		if resp.StatusCode != tt.wantStatus || body.Code != tt.wantCode || body.Message != tt.wantMsg {
			t.Errorf("Error(%v) = %d %+v, want %d {%s %s}", tt.err, resp.StatusCode, body, tt.wantStatus, tt.wantCode, tt.wantMsg)
		}
		if resp.Headers["Content-Type"] != "application/json" {
			t.Errorf("Content-Type = %q", resp.Headers["Content-Type"])
		}
	}
}
