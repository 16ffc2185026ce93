package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/metrics/metricstest"
)

type point = metricstest.Point

func parseAll(t *testing.T, out []byte) []point {
	t.Helper()
	p, err := metricstest.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var find = metricstest.Find

func TestEMFLines(t *testing.T) {
	ctx := context.Background()
	dep := map[string]string{metrics.DimDeployment: "StopCoord-dev"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{metrics.DimDeployment: "StopCoord-dev"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		record func(metrics.Recorder)
		want   []point // Namespace is always stopcoord
	}{
		{"stop requested", func(r metrics.Recorder) { r.StopRequested(ctx, "api", 3) }, []point{
			{Name: metrics.StopsRequested, Unit: "Count", Value: 3, Dims: dep},
			{Name: metrics.StopsRequested, Unit: "Count", Value: 3, Dims: with(metrics.DimTrigger, "api")},
		}},
		{"stop closed", func(r metrics.Recorder) { r.StopClosed(ctx, "fail-fast", "Stopped", 1500*time.Millisecond) }, []point{
			{Name: metrics.StopsClosed, Unit: "Count", Value: 1, Dims: dep},
			{Name: metrics.StopsClosed, Unit: "Count", Value: 1, Dims: with(metrics.DimTrigger, "fail-fast", metrics.DimOutcome, "Stopped")},
			{Name: metrics.StopLatency, Unit: "Milliseconds", Value: 1500, Dims: dep},
			{Name: metrics.StopLatency, Unit: "Milliseconds", Value: 1500, Dims: with(metrics.DimTrigger, "fail-fast")},
		}},
		{"open stops", func(r metrics.Recorder) { r.OpenStops(ctx, 2, 61*time.Minute) }, []point{
			{Name: metrics.OpenStops, Unit: "Count", Value: 2, Dims: dep},
			{Name: metrics.OldestOpenStopAge, Unit: "Seconds", Value: 3660, Dims: dep},
		}},
		{"open callbacks", func(r metrics.Recorder) { r.OpenCallbacks(ctx, 0, 0) }, []point{
			{Name: metrics.OpenCallbacks, Unit: "Count", Value: 0, Dims: dep},
			{Name: metrics.OldestOpenCallbackAge, Unit: "Seconds", Value: 0, Dims: dep},
		}},
		{"cleanup abandoned", func(r metrics.Recorder) { r.Cleanup(ctx, "glue", metrics.CleanupAbandoned) }, []point{
			{Name: metrics.Cleanups, Unit: "Count", Value: 1, Dims: with(metrics.DimResult, "abandoned")},
			{Name: metrics.Cleanups, Unit: "Count", Value: 1, Dims: with(metrics.DimKind, "glue", metrics.DimResult, "abandoned")},
		}},
		{"tokens forced", func(r metrics.Recorder) { r.TokensForced(ctx, 2) }, []point{
			{Name: metrics.TokensForced, Unit: "Count", Value: 2, Dims: dep},
		}},
		{"no tokens forced writes nothing", func(r metrics.Recorder) { r.TokensForced(ctx, 0) }, nil},
		{"throttled", func(r metrics.Recorder) { r.SageMakerThrottled(ctx, "StopPipelineExecution") }, []point{
			{Name: metrics.SageMakerThrottles, Unit: "Count", Value: 1, Dims: dep},
			{Name: metrics.SageMakerThrottles, Unit: "Count", Value: 1, Dims: with(metrics.DimOperation, "StopPipelineExecution")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.record(metrics.NewEMF(&buf, "StopCoord-dev"))
			got := parseAll(t, buf.Bytes())
			if len(got) != len(tt.want) {
				t.Fatalf("got %d points, want %d\n got: %+v\nline: %s", len(got), len(tt.want), got, buf.String())
			}
			for _, w := range tt.want {
				m := find(got, w.Name, w.Dims)
				if len(m) != 1 || m[0].Unit != w.Unit || m[0].Value != w.Value || m[0].Namespace != metrics.Namespace {
					t.Errorf("want %+v in namespace %s, got %+v\nline: %s", w, metrics.Namespace, m, buf.String())
				}
			}
		})
	}
}

func TestEMFCarriesTheRequestID(t *testing.T) {
	var buf bytes.Buffer
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
	metrics.NewEMF(&buf, "d").StopRequested(ctx, "api", 1)
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil || len(parseAll(t, buf.Bytes())) != 2 {
		t.Fatalf("not one EMF line: %q", buf.String())
	}
	if doc["requestId"] != "req-1" {
		t.Errorf("requestId = %v, want req-1", doc["requestId"])
	}
}

// TestEMFLinesDoNotInterleave records from many goroutines and checks every
// line is a whole EMF document.
func TestEMFLinesDoNotInterleave(t *testing.T) {
	var buf bytes.Buffer
	rec := metrics.NewEMF(&buf, "d")
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec.Cleanup(context.Background(), "lambda", metrics.CleanupSucceeded)
		}()
	}
	wg.Wait()
	if got := len(find(parseAll(t, buf.Bytes()), metrics.Cleanups, map[string]string{metrics.DimDeployment: "d", metrics.DimResult: "succeeded"})); got != 50 {
		t.Fatalf("got %d whole lines, want 50", got)
	}
}

// TestCountThrottles runs real SDK clients against a server that throttles
// twice, then answers: each throttled SageMaker attempt is one point, and
// other services' throttles are not counted.
func TestCountThrottles(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		mu.Lock()
		calls[target]++
		n := calls[target]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if n <= 2 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
			return
		}
		_, _ = w.Write([]byte(`{"PipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e"}`))
	}))
	defer srv.Close()

	var buf bytes.Buffer
	cfg := aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		APIOptions:  []func(*middleware.Stack) error{metrics.CountThrottles(metrics.NewEMF(&buf, "d"))},
	}
	sm := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.RetryMaxAttempts = 5
	})
	if _, err := sm.StopPipelineExecution(context.Background(), &sagemaker.StopPipelineExecutionInput{
		PipelineExecutionArn: aws.String("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e"),
		ClientRequestToken:   aws.String(strings.Repeat("a", 32)),
	}); err != nil {
		t.Fatalf("StopPipelineExecution after two throttles: %v", err)
	}
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL); o.RetryMaxAttempts = 5 })
	_, _ = q.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String("q")})

	got := find(parseAll(t, buf.Bytes()), metrics.SageMakerThrottles, map[string]string{metrics.DimDeployment: "d", metrics.DimOperation: "StopPipelineExecution"})
	if len(got) != 2 {
		t.Fatalf("got %d throttle points for StopPipelineExecution, want 2 (one per throttled attempt)\n%s", len(got), buf.String())
	}
	if n := len(find(parseAll(t, buf.Bytes()), metrics.SageMakerThrottles, map[string]string{metrics.DimDeployment: "d"})); n != 2 {
		t.Errorf("got %d rollup points, want 2: SQS throttles must not count", n)
	}
}

func TestDefaultIsNopUntilSet(t *testing.T) {
	if _, ok := metrics.Default().(metrics.Nop); !ok {
		t.Fatalf("Default() = %T before SetDefault, want Nop", metrics.Default())
	}
	var buf bytes.Buffer
	metrics.SetDefault(metrics.NewEMF(&buf, "d"))
	t.Cleanup(func() { metrics.SetDefault(metrics.Nop{}) })
	metrics.Default().TokensForced(context.Background(), 1)
	if len(parseAll(t, buf.Bytes())) != 1 {
		t.Fatalf("SetDefault recorder did not record: %q", buf.String())
	}
}
