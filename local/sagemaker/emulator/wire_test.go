package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

// TestWireErrors speaks raw HTTP, as a client other than the Go SDK would,
// and checks the JSON 1.1 error envelope.
func TestWireErrors(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t, func(o *emulator.Options) { o.MaxBodyBytes = 1 << 10 })
	cases := []struct {
		name       string
		method     string
		target     string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"unknown operation", "POST", "SageMaker.CreateTrainingJob", `{}`, 400, "UnknownOperationException"},
		{"missing target", "POST", "", `{}`, 400, "UnknownOperationException"},
		{"malformed JSON", "POST", "SageMaker.DescribePipeline", `{"PipelineName":`, 400, "SerializationException"},
		{"wrong member type", "POST", "SageMaker.DescribePipeline", `{"PipelineName":5}`, 400, "SerializationException"},
		{"missing required member", "POST", "SageMaker.DescribePipeline", `{}`, 400, "ValidationException"},
		{"empty body is {}", "POST", "SageMaker.ListPipelines", ``, 200, ""},
		{"body too large", "POST", "SageMaker.ListPipelines", `{"x":"` + strings.Repeat("a", 2048) + `"}`, 413, "RequestEntityTooLarge"},
		{"GET", "GET", "", ``, 404, "UnknownOperationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, e.url+"/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			if tc.target != "" {
				req.Header.Set("X-Amz-Target", tc.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, b, tc.wantStatus)
			}
			if ct := resp.Header.Get("Content-Type"); tc.method == "POST" && ct != "application/x-amz-json-1.1" {
				t.Errorf("content type %q", ct)
			}
			if tc.wantCode == "" {
				return
			}
			var env struct {
				Type    string `json:"__type"`
				Message string `json:"Message"`
			}
			if err := json.Unmarshal(b, &env); err != nil {
				t.Fatalf("error body %s: %v", b, err)
			}
			if env.Type != tc.wantCode || resp.Header.Get("X-Amzn-ErrorType") != tc.wantCode || env.Message == "" {
				t.Errorf("error %s (header %q), want __type and header %s with a message", b, resp.Header.Get("X-Amzn-ErrorType"), tc.wantCode)
			}
		})
	}
	t.Run("health", func(t *testing.T) {
		resp, err := http.Get(e.url + "/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("health: %v %v", resp, err)
		}
		resp.Body.Close()
	})
	t.Run("validation message", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.url+"/", strings.NewReader(`{"PipelineExecutionArn":"nope"}`))
		req.Header.Set("X-Amz-Target", "SageMaker.DescribePipelineExecution")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		want := `1 validation error detected: Value 'nope' at 'pipelineExecutionArn' failed to satisfy constraint: Member must satisfy regular expression pattern`
		if !strings.Contains(string(b), want) {
			t.Errorf("body %s, want a message like %q", b, want)
		}
	})
}
