package main

import (
	"context"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/httpapi"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// resourcesRequest is the body of PUT /callbacks/{token}/resources: what a
// callback step's worker started, so a stop cleans it up.
type resourcesRequest struct {
	PipelineExecutionARN string              `json:"pipelineExecutionArn"`
	Resources            []pipeline.Resource `json:"resources"`
}

// resourcesResponse is the token's cleanup plan after the registration.
type resourcesResponse struct {
	Token        string              `json:"token"`
	ExecutionARN string              `json:"pipelineExecutionArn"`
	State        pipeline.TokenState `json:"state"`
	CleanupPlan  []pipeline.Resource `json:"cleanupPlan"`
}

func (h *handler) registerResources(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	caller, err := callerOf(req)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	var body resourcesRequest
	if err := httpapi.Decode(req, h.maxBodyBytes, &body); err != nil {
		return httpapi.Error(ctx, err)
	}
	if body.PipelineExecutionARN == "" {
		return httpapi.Error(ctx, pipeline.Errorf(pipeline.EInvalid, "pipelineExecutionArn is required"))
	}
	tok, err := h.coord.RegisterResources(ctx, coordinator.ResourcesInput{
		Token:        req.PathParameters["token"],
		ExecutionARN: body.PipelineExecutionARN,
		Resources:    body.Resources,
		RegisteredBy: caller,
	})
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	plan := tok.CleanupPlan
	if plan == nil {
		plan = []pipeline.Resource{}
	}
	return httpapi.JSON(http.StatusOK, resourcesResponse{Token: tok.Token, ExecutionARN: tok.ExecutionARN, State: tok.State, CleanupPlan: plan})
}
