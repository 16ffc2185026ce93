package startup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// X-Ray in Lambda: with active tracing, Lambda records a segment per
// invocation and runs the X-Ray daemon, whose address it puts in
// AWS_XRAY_DAEMON_ADDRESS; the invocation's trace header (Root, Parent,
// Sampled) reaches the handler's context. traceCalls records each AWS call
// as a subsegment of that segment, sent to the daemon over UDP, and passes
// the trace on in the call's X-Amzn-Trace-Id header, so a stop reads as one
// trace: API, SageMaker, DynamoDB, SQS, and the functions the queue feeds.
//
// Why not a library: the X-Ray SDK for Go is in maintenance mode (since
// February 2026) and drags in the v1 AWS SDK and fasthttp (+15 MB per
// binary, +2.2 MB allocated at init); otelaws is deprecated and
// OpenTelemetry needs an exporter, and the Go OTLP exporter adds 9 MB and a
// collector layer, while no Go X-Ray UDP exporter exists. A subsegment is a
// small JSON document; this costs nothing at init and one UDP write a call.
const (
	xrayDaemonAddress = "AWS_XRAY_DAEMON_ADDRESS"
	// lambdaTraceKey is where aws-lambda-go puts the invocation's trace
	// header in the handler's context (a plain string key, theirs).
	lambdaTraceKey = "x-amzn-trace-id"
	traceHeader    = "X-Amzn-Trace-Id"
	// The daemon's protocol: a header line, then the document.
	daemonHeader = `{"format": "json", "version": 1}` + "\n"
)

// traceContext is the invocation's X-Ray trace header.
type traceContext struct {
	root, parent string
	sampled      bool
}

// traceOf reads the invocation's trace header from the context, or from
// _X_AMZN_TRACE_ID where the runtime set only that.
func traceOf(ctx context.Context) traceContext {
	h, _ := ctx.Value(lambdaTraceKey).(string)
	if h == "" {
		h = os.Getenv("_X_AMZN_TRACE_ID")
	}
	var t traceContext
	for _, part := range strings.Split(h, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			t.root = v
		case "Parent":
			t.parent = v
		case "Sampled":
			t.sampled = v == "1"
		}
	}
	return t
}

// subsegment is an X-Ray subsegment document of an AWS call.
type subsegment struct {
	Name      string         `json:"name"`
	ID        string         `json:"id"`
	TraceID   string         `json:"trace_id"`
	ParentID  string         `json:"parent_id"`
	Type      string         `json:"type"`
	StartTime float64        `json:"start_time"`
	EndTime   float64        `json:"end_time"`
	Namespace string         `json:"namespace"`
	AWS       map[string]any `json:"aws"`
	HTTP      *httpInfo      `json:"http,omitempty"`
	Error     bool           `json:"error,omitempty"`
	Throttle  bool           `json:"throttle,omitempty"`
	Fault     bool           `json:"fault,omitempty"`
	Cause     *cause         `json:"cause,omitempty"`
}

type httpInfo struct {
	Response struct {
		Status int `json:"status"`
	} `json:"response"`
}

type cause struct {
	Exceptions []exception `json:"exceptions"`
}

type exception struct {
	ID      string `json:"id"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message"`
	Remote  bool   `json:"remote,omitempty"`
}

type subsegmentIDKey struct{}

// traceCalls returns an SDK API option recording every call of a sampled
// invocation as a subsegment.
func traceCalls(send func([]byte)) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		if err := s.Initialize.Add(middleware.InitializeMiddlewareFunc("stopcoordXRaySubsegment", func(
			ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler,
		) (middleware.InitializeOutput, middleware.Metadata, error) {
			t := traceOf(ctx)
			if !t.sampled || t.root == "" || t.parent == "" {
				return next.HandleInitialize(ctx, in)
			}
			id := newSubsegmentID()
			start := time.Now()
			out, md, err := next.HandleInitialize(context.WithValue(ctx, subsegmentIDKey{}, id), in)
			doc := describe(ctx, t, id, start, time.Now(), md, err)
			if b, jerr := json.Marshal(doc); jerr == nil {
				send(append([]byte(daemonHeader), b...))
			}
			return out, md, err
		}), middleware.Before); err != nil {
			return err
		}
		// Each attempt carries the trace on, with this call as the parent
		// (the SDK's own recursion-detection header names the invocation).
		return s.Finalize.Add(middleware.FinalizeMiddlewareFunc("stopcoordXRayHeader", func(
			ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler,
		) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if id, ok := ctx.Value(subsegmentIDKey{}).(string); ok {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Set(traceHeader, "Root="+traceOf(ctx).root+";Parent="+id+";Sampled=1")
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
	}
}

var throttleCheck = retry.IsErrorThrottles(retry.DefaultThrottles)

// describe builds the subsegment of one finished call.
func describe(ctx context.Context, t traceContext, id string, start, end time.Time, md middleware.Metadata, err error) subsegment {
	info := map[string]any{
		"operation": awsmiddleware.GetOperationName(ctx),
		"region":    awsmiddleware.GetRegion(ctx),
		"retries":   max(0, len(retryAttempts(md))-1),
	}
	if reqID, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		info["request_id"] = reqID
	}
	doc := subsegment{
		Name: awsmiddleware.GetServiceID(ctx), ID: id, TraceID: t.root, ParentID: t.parent, Type: "subsegment",
		StartTime: seconds(start), EndTime: seconds(end), Namespace: "aws", AWS: info,
	}
	status := 0
	if raw, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && raw != nil {
		status = raw.StatusCode
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
		info["request_id"] = respErr.ServiceRequestID()
	}
	if status != 0 {
		doc.HTTP = &httpInfo{}
		doc.HTTP.Response.Status = status
	}
	if err == nil {
		return doc
	}
	ex := exception{ID: newSubsegmentID(), Message: truncate(err.Error(), 1024)}
	var api smithy.APIError
	if errors.As(err, &api) {
		ex.Type, ex.Remote = api.ErrorCode(), true
	}
	doc.Cause = &cause{Exceptions: []exception{ex}}
	switch {
	case throttleCheck.IsErrorThrottle(err) == aws.TrueTernary || status == 429:
		doc.Error, doc.Throttle = true, true
	case status >= 400 && status < 500:
		doc.Error = true
	default: // 5xx, timeouts, connection errors
		doc.Fault = true
	}
	return doc
}

func retryAttempts(md middleware.Metadata) []retry.AttemptResult {
	r, _ := retry.GetAttemptResults(md)
	return r.Results
}

func seconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// newSubsegmentID is 16 random hex digits, as X-Ray wants.
func newSubsegmentID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newDaemonSender sends documents to the daemon. address is
// "host:port", or Lambda's "udp:host:port tcp:host:port" form. The socket
// is opened on first use; a send that fails is dropped, never an error of
// the call it describes.
func newDaemonSender(address string) func([]byte) {
	for _, part := range strings.Fields(address) {
		if rest, ok := strings.CutPrefix(part, "udp:"); ok {
			address = rest
		}
	}
	var once sync.Once
	var conn net.Conn
	return func(doc []byte) {
		once.Do(func() { conn, _ = net.Dial("udp", address) })
		if conn != nil {
			_, _ = conn.Write(doc)
		}
	}
}
