package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// StopExecutionInput asks for one execution to be stopped.
type StopExecutionInput struct {
	// Execution is an execution ARN or "<pipeline>/<execution id>".
	Execution string
	Reason    string
	Mode      string // ModeGraceful (default) or ModeForce
	// IdempotencyKey makes a repeated request return the first stop. Empty
	// means a fresh key per call, kept across the client's own retries.
	IdempotencyKey string
}

// StopExecutionOutput is the stop the request created or joined.
type StopExecutionOutput struct {
	Stop            Stop `json:"stop"`
	AlreadyStopping bool `json:"alreadyStopping"`
	// AnsweredTokens names the tokens a force stop answered, by reference
	// ("tok-" and 12 hex digits), never in full.
	AnsweredTokens []string `json:"answeredTokens,omitempty"`
	// Created is true when this request started the stop (202), false when
	// it joined one under way (200).
	Created bool `json:"-"`
}

type stopBody struct {
	PipelineExecutionARN string `json:"pipelineExecutionArn,omitempty"`
	Reason               string `json:"reason,omitempty"`
	Mode                 string `json:"mode,omitempty"`
}

// StopExecution stops one execution: POST /stops with an ARN, POST
// /pipelines/{name}/executions/{id}/stops with a pipeline and id.
func (c *Client) StopExecution(ctx context.Context, in *StopExecutionInput) (*StopExecutionOutput, error) {
	ref, err := ParseExecution(in.Execution)
	if err != nil {
		return nil, fmt.Errorf("stop execution: %w", err)
	}
	key := in.IdempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	}
	r := request{method: http.MethodPost, header: http.Header{"Idempotency-Key": {key}}}
	if ref.ARN != "" {
		r.segments = []string{"stops"}
		r.body = stopBody{PipelineExecutionARN: ref.ARN, Reason: in.Reason, Mode: in.Mode}
	} else {
		r.segments = []string{"pipelines", ref.Pipeline, "executions", ref.ID, "stops"}
		r.body = stopBody{Reason: in.Reason, Mode: in.Mode}
	}
	var out StopExecutionOutput
	status, err := c.do(ctx, "stop "+ref.String(), r, &out)
	if err != nil {
		return nil, err
	}
	out.Created = status == http.StatusAccepted
	return &out, nil
}

// StopPipelineInput asks for every running execution of a pipeline to be
// stopped.
type StopPipelineInput struct {
	PipelineName   string
	Reason         string
	Mode           string
	IdempotencyKey string // as in StopExecutionInput
}

// StopPipelineOutput lists the stops queued, one per running execution.
type StopPipelineOutput struct {
	Count int          `json:"count"`
	Stops []QueuedStop `json:"stops"`
}

// StopPipeline is POST /pipelines/{name}/stops: the stops go through the
// internal stop queue within the SageMaker call budget.
func (c *Client) StopPipeline(ctx context.Context, in *StopPipelineInput) (*StopPipelineOutput, error) {
	if in.PipelineName == "" {
		return nil, errors.New("stop pipeline: a pipeline name is required")
	}
	key := in.IdempotencyKey
	if key == "" {
		key = newIdempotencyKey()
	}
	var out StopPipelineOutput
	_, err := c.do(ctx, "stop pipeline "+in.PipelineName, request{
		method: http.MethodPost, segments: []string{"pipelines", in.PipelineName, "stops"},
		header: http.Header{"Idempotency-Key": {key}},
		body:   stopBody{Reason: in.Reason, Mode: in.Mode},
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// GetStopInput names a stop by its id ("stop-...").
type GetStopInput struct {
	StopID string
}

// GetStopOutput is the stop with its execution's current view.
type GetStopOutput struct {
	Stop      Stop      `json:"stop"`
	Execution Execution `json:"execution"`
}

// GetStop is GET /stops/{id}.
func (c *Client) GetStop(ctx context.Context, in *GetStopInput) (*GetStopOutput, error) {
	if in.StopID == "" {
		return nil, errors.New("get stop: a stop id is required")
	}
	var out GetStopOutput
	if _, err := c.do(ctx, "get stop "+in.StopID, request{method: http.MethodGet, segments: []string{"stops", in.StopID}}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetExecutionInput names an execution.
type GetExecutionInput struct {
	// Execution is an execution ARN or "<pipeline>/<execution id>".
	Execution string
}

// GetExecutionOutput is the execution's view.
type GetExecutionOutput struct {
	Execution Execution
}

// GetExecution is GET /pipelines/{name}/executions/{id} (with ?account=
// when an ARN names the execution), never the deprecated GET
// /executions/{executionArn}, whose encoded slashes do not survive API
// Gateway.
func (c *Client) GetExecution(ctx context.Context, in *GetExecutionInput) (*GetExecutionOutput, error) {
	ref, err := ParseExecution(in.Execution)
	if err != nil {
		return nil, fmt.Errorf("get execution: %w", err)
	}
	r := request{method: http.MethodGet, segments: []string{"pipelines", ref.Pipeline, "executions", ref.ID}}
	if ref.Account != "" {
		r.query = url.Values{"account": {ref.Account}}
	}
	var out GetExecutionOutput
	if _, err := c.do(ctx, "get execution "+ref.String(), r, &out.Execution); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegisterResourcesInput is what a callback step's worker started.
type RegisterResourcesInput struct {
	Token        string // the callback token
	ExecutionARN string
	Resources    []Resource
}

// RegisterResourcesOutput is the token's cleanup plan after the
// registration.
type RegisterResourcesOutput struct {
	Token        string     `json:"token"`
	ExecutionARN string     `json:"pipelineExecutionArn"`
	State        string     `json:"state"`
	CleanupPlan  []Resource `json:"cleanupPlan"`
}

// RegisterResources is PUT /callbacks/{token}/resources. Registering a
// resource twice is harmless, so retries are safe. A conflict
// (HasCode(err, CodeConflict)) means the token is answered or being
// answered: the worker must stop what it started itself.
func (c *Client) RegisterResources(ctx context.Context, in *RegisterResourcesInput) (*RegisterResourcesOutput, error) {
	if in.Token == "" || in.ExecutionARN == "" {
		return nil, errors.New("register resources: a token and an execution ARN are required")
	}
	var out RegisterResourcesOutput
	_, err := c.do(ctx, "register resources of "+in.Token, request{
		method: http.MethodPut, segments: []string{"callbacks", in.Token, "resources"},
		body: struct {
			ExecutionARN string     `json:"pipelineExecutionArn"`
			Resources    []Resource `json:"resources"`
		}{in.ExecutionARN, in.Resources},
	}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
