package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stopcoord/stopcoord/client"
	"github.com/stopcoord/stopcoord/local/apigw"
)

const principal = "arn:aws:iam::123456789012:user/local-developer"

// seen is one request as the server received it, after its signature was
// verified as API Gateway verifies it.
type seen struct {
	method, path, rawPath, query, key, body string
}

// server answers with the scripted responses in turn and refuses
// requests whose SigV4 signature does not verify.
type server struct {
	t       *testing.T
	mu      sync.Mutex
	answers []answer
	got     []seen
}

type answer struct {
	status int
	body   string
}

func newServer(t *testing.T, answers ...answer) (*server, *client.Client) {
	s := &server{t: t, answers: answers}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := client.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, srv.URL,
		func(o *client.Options) {
			// Fast retries: the standard retryer's backoff, scaled down.
			o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) { so.MaxBackoff = 10 * time.Millisecond })
		})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	v := &apigw.Verifier{Region: "us-east-1", Credentials: []apigw.Credential{{AccessKeyID: "test", SecretAccessKey: "test", PrincipalARN: principal}}}
	if _, refusal := v.Verify(r, body); refusal != nil {
		w.WriteHeader(refusal.Status)
		json.NewEncoder(w).Encode(map[string]string{"message": refusal.Message})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, seen{r.Method, r.URL.Path, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Get("Idempotency-Key"), string(body)})
	if len(s.answers) == 0 {
		s.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(500)
		return
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

func (s *server) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.got...)
}

const stopBody = `{"stop":{"id":"stop-1","executionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc","mode":"graceful","phase":"issued","createdAt":"2026-11-26T09:00:00Z","timeline":[]},"alreadyStopping":false}`

func TestStopExecutionRoutesAndRetriesWithOneKey(t *testing.T) {
	tests := []struct {
		name, execution, wantPath, wantBody string
	}{
		{"by ARN", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc", "/stops",
			`{"pipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc","reason":"cost","mode":"force"}`},
		{"by pipeline and id", "train/abc", "/pipelines/train/executions/abc/stops", `{"reason":"cost","mode":"force"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newServer(t,
				answer{429, `{"code":"throttled","message":"slow down"}`},
				answer{502, `{"code":"unavailable","message":"SageMaker failed"}`},
				answer{202, stopBody})
			out, err := c.StopExecution(context.Background(), &client.StopExecutionInput{Execution: tt.execution, Reason: "cost", Mode: client.ModeForce})
			if err != nil {
				t.Fatal(err)
			}
			if !out.Created || out.Stop.ID != "stop-1" || out.Stop.Phase != client.PhaseIssued {
				t.Fatalf("output %+v", out)
			}
			got := s.requests()
			if len(got) != 3 {
				t.Fatalf("%d requests, want 3 (two retried failures)", len(got))
			}
			for _, r := range got {
				if r.method != "POST" || r.path != tt.wantPath || r.body != tt.wantBody {
					t.Errorf("request %+v, want POST %s %s", r, tt.wantPath, tt.wantBody)
				}
				if r.key == "" || r.key != got[0].key {
					t.Errorf("idempotency keys %q and %q: a retry must repeat the first", got[0].key, r.key)
				}
			}
		})
	}
}

func TestCallerKeyIsSent(t *testing.T) {
	s, c := newServer(t, answer{200, strings.Replace(stopBody, `"alreadyStopping":false`, `"alreadyStopping":true`, 1)})
	out, err := c.StopExecution(context.Background(), &client.StopExecutionInput{Execution: "train/abc", IdempotencyKey: "incident-42"})
	if err != nil {
		t.Fatal(err)
	}
	if out.Created || !out.AlreadyStopping || s.requests()[0].key != "incident-42" {
		t.Fatalf("output %+v, key %q", out, s.requests()[0].key)
	}
}

func TestClientErrorsAreNotRetried(t *testing.T) {
	s, c := newServer(t, answer{409, `{"code":"conflict","message":"the execution already ended: Succeeded"}`})
	_, err := c.StopExecution(context.Background(), &client.StopExecutionInput{Execution: "train/abc"})
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 409 || !client.HasCode(err, client.CodeConflict) || !strings.Contains(err.Error(), "already ended") {
		t.Fatalf("err = %v, want the API's conflict", err)
	}
	if n := len(s.requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestRetriesEnd(t *testing.T) {
	var answers []answer
	for range 3 {
		answers = append(answers, answer{503, `{"message":"Service Unavailable"}`})
	}
	s, c := newServer(t, answers...)
	_, err := c.GetStop(context.Background(), &client.GetStopInput{StopID: "stop-1"})
	if !client.HasCode(err, "http_503") || len(s.requests()) != 3 {
		t.Fatalf("err = %v after %d requests; want the 503 after the standard retryer's 3 attempts", err, len(s.requests()))
	}
}

func TestGetExecutionUsesThePipelinePath(t *testing.T) {
	view := `{"executionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc","pipelineName":"train","status":"Stopping","terminal":false,"source":"ledger",` +
		`"steps":[{"name":"Wait","kind":"Callback","status":"Stopping","callback":{"tokenRef":"tok-5a046b374211","state":"open"}}],` +
		`"blocking":{"openCallbacks":[{"stepName":"Wait","since":"2026-11-26T09:00:00Z"}],"runningLambdas":[]},"stops":[],"timeline":[]}`
	s, c := newServer(t, answer{200, view}, answer{200, view})
	for _, in := range []string{"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc", "train/abc"} {
		out, err := c.GetExecution(context.Background(), &client.GetExecutionInput{Execution: in})
		if err != nil {
			t.Fatal(err)
		}
		if out.Execution.Status != client.StatusStopping || len(out.Execution.Blocking.OpenCallbacks) != 1 || out.Execution.Blocking.Empty() {
			t.Fatalf("view %+v", out.Execution)
		}
	}
	got := s.requests()
	if got[0].rawPath != "/pipelines/train/executions/abc" || got[0].query != "account=123456789012" || got[1].query != "" {
		t.Fatalf("requests %+v", got)
	}
}

func TestBadSignatureIsRefused(t *testing.T) {
	s, good := newServer(t)
	c, err := client.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "wrong", "")}, good.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetStop(context.Background(), &client.GetStopInput{StopID: "stop-1"})
	if !client.HasCode(err, "forbidden") || !strings.Contains(err.Error(), "signature we calculated does not match") {
		t.Fatalf("err = %v, want API Gateway's 403", err)
	}
	if n := len(s.requests()); n != 0 {
		t.Fatalf("%d requests passed the signature check", n)
	}
}

func TestParseExecution(t *testing.T) {
	tests := []struct {
		in      string
		want    client.ExecutionRef
		wantErr bool
	}{
		{"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc", client.ExecutionRef{ARN: "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/abc", Account: "123456789012", Pipeline: "train", ID: "abc"}, false},
		{"train/abc", client.ExecutionRef{Pipeline: "train", ID: "abc"}, false},
		{"train", client.ExecutionRef{}, true},
		{"train/abc/def", client.ExecutionRef{}, true},
		{"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train", client.ExecutionRef{}, true},
		{"arn:aws:s3:::bucket/x", client.ExecutionRef{}, true},
	}
	for _, tt := range tests {
		got, err := client.ParseExecution(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseExecution(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNewReportsEveryProblem(t *testing.T) {
	_, err := client.NewWithOptions(client.Options{Endpoint: "ftp://x"})
	for _, want := range []string{"not an http(s) URL", "no AWS region", "no AWS credentials"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to say %q", err, want)
		}
	}
}
