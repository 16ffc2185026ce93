package workerkit_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/workerkit"
)

var cfg = aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDWORKER", "secret", "session-token")}

var cc = callback.Context{Token: "26vcYbeWsZ", ExecutionARN: "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p/execution/abc", StepName: "Etl", Status: callback.StatusExecuting}

func TestRegisterSignsAndSends(t *testing.T) {
	var got struct {
		method, path, auth, date, token, contentType string
		body                                         map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.auth = r.Method, r.URL.Path, r.Header.Get("Authorization")
		got.date, got.token, got.contentType = r.Header.Get("X-Amz-Date"), r.Header.Get("X-Amz-Security-Token"), r.Header.Get("Content-Type")
		raw, _ := io.ReadAll(r.Body)
		json.Unmarshal(raw, &got.body)
		w.Write([]byte(`{"token":"26vcYbeWsZ","state":"open","cleanupPlan":[{"kind":"sfn-execution","id":"arn:sfn"},{"kind":"batch-job","id":"job-1"}]}`))
	}))
	defer srv.Close()
	c, err := workerkit.NewWithConfig(srv.URL+"/", cfg, srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Register(context.Background(), cc, pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "job-1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 2 || plan[1].ID != "job-1" {
		t.Fatalf("plan %+v", plan)
	}
	if got.method != http.MethodPut || got.path != "/callbacks/26vcYbeWsZ/resources" || got.contentType != "application/json" {
		t.Fatalf("request %s %s (%s)", got.method, got.path, got.contentType)
	}
	for _, want := range []string{"AWS4-HMAC-SHA256 Credential=AKIDWORKER/", "/eu-west-1/execute-api/aws4_request", "SignedHeaders=", "host", "x-amz-date", "Signature="} {
		if !strings.Contains(got.auth, want) {
			t.Fatalf("Authorization %q lacks %q", got.auth, want)
		}
	}
	if got.date == "" || got.token != "session-token" {
		t.Fatalf("X-Amz-Date %q, X-Amz-Security-Token %q", got.date, got.token)
	}
	res, _ := got.body["resources"].([]any)
	if got.body["pipelineExecutionArn"] != cc.ExecutionARN || len(res) != 1 || res[0].(map[string]any)["kind"] != "batch-job" {
		t.Fatalf("body %v", got.body)
	}
}

func TestRegisterReportsRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"code":"conflict","message":"callback token 26vcYbeWsZ already answered"}`))
	}))
	defer srv.Close()
	c, err := workerkit.NewWithConfig(srv.URL, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Register(context.Background(), cc, pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "job-1"})
	if !workerkit.Answered(err) || !strings.Contains(err.Error(), "409") {
		t.Fatalf("err = %v, want an answered conflict", err)
	}
}

func TestNewWithConfigRefusesWhatCannotSign(t *testing.T) {
	if _, err := workerkit.NewWithConfig("ftp://x", cfg, nil); err == nil {
		t.Fatal("accepted an ftp URL")
	}
	if _, err := workerkit.NewWithConfig("https://api.example.com", aws.Config{}, nil); err == nil {
		t.Fatal("accepted a configuration without credentials")
	}
}

func TestParseContext(t *testing.T) {
	b, _ := json.Marshal(cc)
	got, err := workerkit.ParseContext(b)
	if err != nil || got.Token != cc.Token || got.StepName != "Etl" {
		t.Fatalf("ParseContext = %+v, %v", got, err)
	}
	for _, bad := range []string{`{}`, `[]`, `{"token":"26vcYbeWsZ"}`, `{"token":"x","pipelineExecutionArn":"a"}`} {
		if _, err := workerkit.ParseContext([]byte(bad)); err == nil {
			t.Errorf("ParseContext(%s) accepted", bad)
		}
	}
}

func Example() {
	ctx := context.Background()
	kit, err := workerkit.New(ctx, "https://abc123.execute-api.eu-west-1.amazonaws.com")
	if err != nil {
		return
	}
	payload := []byte(`{"token":"26vcYbeWsZ","pipelineExecutionArn":"arn:aws:sagemaker:eu-west-1:123456789012:pipeline/p/execution/abc","arguments":{},"status":"Executing"}`)
	cc, err := workerkit.ParseContext(payload)
	if err != nil {
		return
	}
	// ... start a Step Functions execution, then:
	_, err = kit.Register(ctx, cc, pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: "arn:aws:states:eu-west-1:123456789012:execution:etl:run-1"})
	if workerkit.Answered(err) {
		// The pipeline was stopped meanwhile: stop the execution here.
	}
}
