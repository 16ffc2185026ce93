package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/httpapi"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Routes that name an execution by its pipeline and id instead of its ARN.
// An ARN holds '/', which must travel as %2F in one path segment; API
// Gateway HTTP APIs decode %2F before they match a route, and curl and the
// SDKs canonicalise an encoded path differently for SigV4. Pipeline names
// and execution ids are letters, digits and hyphens, so these paths mean
// the same thing to every client, signer and gateway.
const (
	routePipelineExecution     = "GET /pipelines/{name}/executions/{id}"
	routePipelineExecutionStop = "POST /pipelines/{name}/executions/{id}/stops"
)

// executionHome is where the API's executions live: the region of the
// function (the SDK's AWS_REGION) and the account it may act on, so a
// pipeline name and an execution id are enough to build the ARN.
type executionHome struct {
	Region   string
	Accounts []string // STOPCOORD_ALLOWED_ACCOUNTS
}

// executionARN builds the ARN a pipeline-and-id path names. The partition is
// the caller's: IAM authorisation only admits principals of the API's own
// partition. With several allowed accounts, the "account" query parameter
// picks one.
func (h *handler) executionARN(req events.APIGatewayV2HTTPRequest) (string, error) {
	name, id := req.PathParameters["name"], req.PathParameters["id"]
	if err := pipeline.ValidatePipelineName(name); err != nil {
		return "", err
	}
	account := req.QueryStringParameters["account"]
	switch {
	case account != "":
	case len(h.home.Accounts) == 1:
		account = h.home.Accounts[0]
	default:
		return "", pipeline.Errorf(pipeline.EInvalid, "this API acts on several accounts: name one with ?account=<12 digits>")
	}
	partition := "aws"
	if caller, err := callerOf(req); err == nil {
		if p, _, ok := strings.Cut(strings.TrimPrefix(caller, "arn:"), ":"); ok && p != "" {
			partition = p
		}
	}
	arn := pipeline.ExecutionARN{Partition: partition, Region: h.home.Region, Account: account, Pipeline: name, ExecutionID: id}
	// Parsing what was built validates the id, the account and the region
	// with the same rules as an ARN in a body.
	if _, err := pipeline.ParseExecutionARN(arn.String()); err != nil {
		return "", pipeline.Errorf(pipeline.EInvalid, "pipeline %q, execution %q: %s", truncate(name, 80), truncate(id, 80), pipeline.Message(err))
	}
	return arn.String(), nil
}

func (h *handler) getPipelineExecution(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	arn, err := h.executionARN(req)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	view, err := h.coord.ViewExecutionRun(ctx, arn)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	return httpapi.JSON(http.StatusOK, executionJSON(view))
}

// stopPipelineExecution is POST /stops for the execution in the path; the
// body (reason, mode) is optional.
func (h *handler) stopPipelineExecution(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	caller, err := callerOf(req)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	arn, err := h.executionARN(req)
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	var body bulkStopRequest // the same members: reason and mode
	if strings.TrimSpace(req.Body) != "" {
		if err := httpapi.Decode(req, h.maxBodyBytes, &body); err != nil {
			return httpapi.Error(ctx, err)
		}
	}
	res, err := h.coord.Stop(ctx, coordinator.StopInput{
		ExecutionARN: arn,
		Reason:       body.Reason,
		Mode:         body.Mode,
		Key:          header(req, "Idempotency-Key"),
		RequestedBy:  caller,
	})
	if err != nil {
		return httpapi.Error(ctx, err)
	}
	return stopAnswer(res)
}

// stopAnswer is the response to a stop: 202 when this request started it,
// 200 when a stop was already under way.
func stopAnswer(res coordinator.StopResult) events.APIGatewayV2HTTPResponse {
	status := http.StatusAccepted
	if res.AlreadyStopping {
		status = http.StatusOK
	}
	return httpapi.JSON(status, stopResponse{Stop: stopJSON(res.Stop), AlreadyStopping: res.AlreadyStopping, AnsweredTokens: res.Answered})
}
