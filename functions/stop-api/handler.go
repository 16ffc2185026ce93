package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/httpapi"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Coordinator is what the API needs of the use cases.
type Coordinator interface {
	Stop(ctx context.Context, in coordinator.StopInput) (coordinator.StopResult, error)
	BulkStop(ctx context.Context, in coordinator.BulkStopInput) (coordinator.BulkStopResult, error)
	ViewExecutionRun(ctx context.Context, arn string) (coordinator.ExecutionView, error)
	ViewStop(ctx context.Context, id string) (pipeline.StopRequest, coordinator.ExecutionView, error)
	StuckStops(ctx context.Context, in coordinator.StuckStopsInput) (coordinator.StuckStopsResult, error)
	RegisterResources(ctx context.Context, in coordinator.ResourcesInput) (pipeline.Token, error)
}

// Routes, as API Gateway names them in the event's routeKey.
const (
	routeStop      = "POST /stops"
	routeBulkStop  = "POST /pipelines/{name}/stops"
	routeGetStop   = "GET /stops/{id}"
	routeExecution = "GET /executions/{executionArn}"
	routeResources = "PUT /callbacks/{token}/resources"
)

type handler struct {
	coord        Coordinator
	maxBodyBytes int
	home         executionHome
}

// stopRequest is the body of POST /stops.
type stopRequest struct {
	PipelineExecutionARN string `json:"pipelineExecutionArn"`
	Reason               string `json:"reason"`
	Mode                 string `json:"mode"`
}

// bulkStopRequest is the body of POST /pipelines/{name}/stops.
type bulkStopRequest struct {
	Reason string `json:"reason"`
	Mode   string `json:"mode"`
}

func (h *handler) handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	switch req.RouteKey {
	case routeStop:
		return h.stop(ctx, req), nil
	case routeBulkStop:
		return h.bulkStop(ctx, req), nil
	case routeGetStop:
		return h.getStop(ctx, req), nil
	case routeExecution:
		return h.getExecution(ctx, req), nil
	case routeResources:
		return h.registerResources(ctx, req), nil
	case routeListStops:
		return h.listStops(ctx, req), nil
	case routePipelineExecution:
		return h.getPipelineExecution(ctx, req), nil
	case routePipelineExecutionStop:
		return h.stopPipelineExecution(ctx, req), nil
	}
	return httpapi.Error(ctx, pipeline.Errorf(pipeline.ENotFound, "no route %s", req.RouteKey)), nil
}

func (h *handler) stop(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	caller, err := callerOf(req)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	var body stopRequest
	if err := httpapi.Decode(req, h.maxBodyBytes, &body); err != nil {
		return httpapi.Error(ctx, err)
	}
	if body.PipelineExecutionARN == "" {
		return httpapi.Error(ctx, pipeline.Errorf(pipeline.EInvalid, "pipelineExecutionArn is required"))
	}
	res, err := h.coord.Stop(ctx, coordinator.StopInput{
		ExecutionARN: body.PipelineExecutionARN,
		Reason:       body.Reason,
		Mode:         body.Mode,
		Key:          header(req, "Idempotency-Key"),
		RequestedBy:  caller,
	})
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	if res.Created {
		metrics.Default().StopRequested(ctx, metrics.TriggerAPI, 1)
	}
	status := http.StatusAccepted
	if res.AlreadyStopping {
		status = http.StatusOK
	}
	return httpapi.JSON(status, stopResponse{Stop: stopJSON(res.Stop), AlreadyStopping: res.AlreadyStopping, AnsweredTokens: res.Answered})
}

func (h *handler) bulkStop(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	caller, err := callerOf(req)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	var body bulkStopRequest
	if strings.TrimSpace(req.Body) != "" { // the body is optional here
		if err := httpapi.Decode(req, h.maxBodyBytes, &body); err != nil {
			return httpapi.Error(ctx, err)
		}
	}
	res, err := h.coord.BulkStop(ctx, coordinator.BulkStopInput{
		PipelineName: req.PathParameters["name"],
		Reason:       body.Reason,
		Mode:         body.Mode,
		Key:          header(req, "Idempotency-Key"),
		RequestedBy:  caller,
	})
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	return httpapi.JSON(http.StatusAccepted, bulkStopResponse{Count: len(res.Executions), Stops: res.Executions})
}

func (h *handler) getStop(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	id := req.PathParameters["id"]
	if !strings.HasPrefix(id, "stop-") || len(id) > 64 {
		return httpapi.Error(ctx, pipeline.Errorf(pipeline.EInvalid, "%q is not a stop id", truncate(id, 80)))
	}
	stop, view, err := h.coord.ViewStop(ctx, id)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	return httpapi.JSON(http.StatusOK, stopStatusResponse{Stop: stopJSON(stop), Execution: executionJSON(view)})
}

func (h *handler) getExecution(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	// The ARN arrives URL-encoded (it holds '/' and ':'); decode it once.
	raw := req.PathParameters["executionArn"]
	arn, err := url.PathUnescape(raw)
	if err != nil {
		return httpapi.Error(ctx, pipeline.Errorf(pipeline.EInvalid, "execution ARN is not URL-encoded correctly"))
	}
	view, err := h.coord.ViewExecutionRun(ctx, arn)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	return httpapi.JSON(http.StatusOK, executionJSON(view))
}

// callerOf is the IAM principal that signed the request; the HTTP API's IAM
// authorisation guarantees one, so its absence is a refusal, not a default.
func callerOf(req events.APIGatewayV2HTTPRequest) (string, error) {
	if a := req.RequestContext.Authorizer; a != nil && a.IAM != nil && a.IAM.UserARN != "" {
		return a.IAM.UserARN, nil
	}
	return "", pipeline.Errorf(pipeline.EUnauthorized, "the request is not signed by an IAM principal")
}

// header reads a header by name; API Gateway's v2 payload lower-cases them.
func header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Response bodies.

type stopResponse struct {
	Stop            stopView `json:"stop"`
	AlreadyStopping bool     `json:"alreadyStopping"`
	AnsweredTokens  []string `json:"answeredTokens,omitempty"`
}

type bulkStopResponse struct {
	Count int                      `json:"count"`
	Stops []coordinator.QueuedStop `json:"stops"`
}

type stopStatusResponse struct {
	Stop      stopView      `json:"stop"`
	Execution executionView `json:"execution"`
}

type stopView struct {
	ID           string          `json:"id"`
	ExecutionARN string          `json:"executionArn"`
	Mode         string          `json:"mode"`
	Reason       string          `json:"reason,omitempty"`
	RequestedBy  string          `json:"requestedBy,omitempty"`
	Phase        string          `json:"phase"`
	CreatedAt    time.Time       `json:"createdAt"`
	IssuedAt     *time.Time      `json:"issuedAt,omitempty"`
	ClosedAt     *time.Time      `json:"closedAt,omitempty"`
	Outcome      string          `json:"outcome,omitempty"`
	LatencyMs    int64           `json:"latencyMs,omitempty"`
	Timeline     []timelineEntry `json:"timeline"`
}

type timelineEntry struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Detail string    `json:"detail,omitempty"`
}

type executionView struct {
	coordinator.ExecutionView
	Stops    []stopView      `json:"stops"`
	Timeline []timelineEntry `json:"timeline"`
}

func stopJSON(s pipeline.StopRequest) stopView {
	v := stopView{ID: s.ID, ExecutionARN: s.ExecutionARN, Mode: string(s.Mode), Reason: s.Reason, RequestedBy: s.RequestedBy,
		Phase: string(s.Phase), CreatedAt: s.CreatedAt, IssuedAt: optional(s.IssuedAt), ClosedAt: optional(s.ClosedAt),
		Outcome: string(s.Outcome), LatencyMs: s.LatencyMillis, Timeline: timelineJSON(s.Timeline)}
	return v
}

func executionJSON(v coordinator.ExecutionView) executionView {
	out := executionView{ExecutionView: v, Stops: []stopView{}, Timeline: timelineJSON(v.Timeline)}
	for _, s := range v.Stops {
		out.Stops = append(out.Stops, stopJSON(s))
	}
	if out.Steps == nil {
		out.Steps = []coordinator.StepView{}
	}
	if out.Attempts == nil {
		out.Attempts = []coordinator.Attempt{}
	}
	return out
}

func timelineJSON(entries []pipeline.TimelineEntry) []timelineEntry {
	out := make([]timelineEntry, 0, len(entries))
	for _, e := range entries {
		out = append(out, timelineEntry{At: e.At, Event: e.Event, Detail: e.Detail})
	}
	return out
}

func optional(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
