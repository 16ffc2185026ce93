package startup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/metrics"
)

const (
	root   = "1-67891233-abcdef012345678912345678"
	parent = "53995c3f42cd8ad8"
	arn    = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e"
)

// daemon is a UDP listener standing in for the X-Ray daemon.
func daemon(t *testing.T) (*net.UDPConn, string) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, conn.LocalAddr().String()
}

// receive reads one document, checking the daemon protocol's header line.
func receive(t *testing.T, conn *net.UDPConn) subsegment {
	t.Helper()
	buf := make([]byte, 64<<10)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, _, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("no subsegment reached the daemon: %v", err)
	}
	head, body, ok := bytes.Cut(buf[:n], []byte("\n"))
	if !ok || string(head)+"\n" != daemonHeader {
		t.Fatalf("datagram does not start with the daemon header: %q", buf[:n])
	}
	var doc subsegment
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("subsegment is not JSON: %v\n%s", err, body)
	}
	return doc
}

// TestCallsBecomeSubsegments runs a real SageMaker client against a server
// that throttles the first attempt of StopPipelineExecution: a sampled
// invocation gets one subsegment per call, parented on the invocation's
// segment, and the server sees the trace passed on with the call as parent.
func TestCallsBecomeSubsegments(t *testing.T) {
	var mu sync.Mutex
	var headers []string
	attempts := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Get(traceHeader))
		target := r.Header.Get("X-Amz-Target")
		attempts[target]++
		n := attempts[target]
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("req-%d", n))
		switch {
		case strings.HasSuffix(r.Header.Get("X-Amz-Target"), "StopPipelineExecution") && n == 1:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ThrottlingException","message":"Rate exceeded"}`))
		case strings.HasSuffix(r.Header.Get("X-Amz-Target"), "DescribePipelineExecution"):
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"ResourceNotFound","message":"no such execution"}`))
		default:
			_, _ = w.Write([]byte(`{"PipelineExecutionArn":"` + arn + `"}`))
		}
	}))
	defer srv.Close()
	conn, addr := daemon(t)

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	Instrument(&cfg, metrics.Nop{}, "udp:"+addr+" tcp:"+addr)
	sm := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	unsampled := context.WithValue(context.Background(), lambdaTraceKey, "Root="+root+";Parent="+parent+";Sampled=0")
	sampled := context.WithValue(context.Background(), lambdaTraceKey, "Root="+root+";Parent="+parent+";Sampled=1")

	// Not sampled: no subsegment. The sampled call after it must be the
	// first document the daemon sees.
	if _, err := sm.DescribePipelineExecution(unsampled, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}); err == nil {
		t.Fatal("DescribePipelineExecution: want the server's ResourceNotFound")
	}
	if _, err := sm.StopPipelineExecution(sampled, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(arn), ClientRequestToken: aws.String(strings.Repeat("a", 32))}); err != nil {
		t.Fatal(err)
	}
	doc := receive(t, conn)
	if doc.Name != "SageMaker" || doc.TraceID != root || doc.ParentID != parent || doc.Type != "subsegment" || doc.Namespace != "aws" || len(doc.ID) != 16 {
		t.Errorf("subsegment %+v: want SageMaker, trace %s, parent %s, type subsegment, namespace aws, a 16-digit id", doc, root, parent)
	}
	if doc.AWS["operation"] != "StopPipelineExecution" || doc.AWS["region"] != "us-east-1" || doc.AWS["retries"] != 1.0 || doc.AWS["request_id"] != "req-2" {
		t.Errorf("aws = %v, want operation StopPipelineExecution, region us-east-1, 1 retry, request id req-2", doc.AWS)
	}
	if doc.HTTP == nil || doc.HTTP.Response.Status != 200 || doc.Error || doc.Fault || doc.Throttle {
		t.Errorf("a call that succeeded on retry: http %+v error %v fault %v throttle %v", doc.HTTP, doc.Error, doc.Fault, doc.Throttle)
	}
	if !(doc.EndTime >= doc.StartTime && doc.StartTime > 1e9) {
		t.Errorf("times %v..%v are not epoch seconds in order", doc.StartTime, doc.EndTime)
	}
	mu.Lock()
	passed := headers[1:] // both attempts of the sampled call
	mu.Unlock()
	for _, h := range passed {
		if want := "Root=" + root + ";Parent=" + doc.ID + ";Sampled=1"; h != want {
			t.Errorf("server saw %s %q, want %q", traceHeader, h, want)
		}
	}

	// A refused call is an error with its cause.
	if _, err := sm.DescribePipelineExecution(sampled, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}); err == nil {
		t.Fatal("want ResourceNotFound")
	}
	doc = receive(t, conn)
	if !doc.Error || doc.Fault || doc.Throttle || doc.HTTP == nil || doc.HTTP.Response.Status != 400 || doc.Cause == nil || doc.Cause.Exceptions[0].Type != "ResourceNotFound" {
		t.Errorf("refused call: %+v, want an error (not fault) with status 400 and cause ResourceNotFound", doc)
	}
}

func TestTraceOf(t *testing.T) {
	tests := []struct {
		name, header string
		want         traceContext
	}{
		{"lambda header", "Root=" + root + ";Parent=" + parent + ";Sampled=1;Lineage=a:1", traceContext{root, parent, true}},
		{"not sampled", "Root=" + root + ";Parent=" + parent + ";Sampled=0", traceContext{root, parent, false}},
		{"empty", "", traceContext{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("_X_AMZN_TRACE_ID", "")
			ctx := context.WithValue(context.Background(), lambdaTraceKey, tt.header)
			if got := traceOf(ctx); got != tt.want {
				t.Errorf("traceOf(%q) = %+v, want %+v", tt.header, got, tt.want)
			}
		})
	}
}

// TestNoDaemonNoTracing: outside Lambda (no daemon address) the clients
// get no tracing middleware at all, only the throttle count.
func TestNoDaemonNoTracing(t *testing.T) {
	var cfg aws.Config
	Instrument(&cfg, metrics.Nop{}, "")
	if len(cfg.APIOptions) != 1 {
		t.Fatalf("%d API options without a daemon, want 1 (the throttle count)", len(cfg.APIOptions))
	}
}
