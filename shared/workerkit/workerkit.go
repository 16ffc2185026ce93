// Package workerkit is for the code a callback step hands its work to: it
// reads the callback context stopcoord sends, and registers what the worker
// started (a Step Functions execution, a Glue run, a Batch job...) against
// the step's token through the stop API, so that a stop of the pipeline
// cleans it up. It is a thin layer over package client, which signs the
// requests with SigV4 for the API's IAM authorisation using the SDK's
// default credentials, and retries what the SDK would retry.
package workerkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stopcoord/stopcoord/client"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Client registers resources with the stop API through the stopcoord
// client (SigV4 signing, the SDK's standard retries).
type Client struct {
	api *client.Client
}

// New returns a client for the stop API at apiURL (the HTTP API's invoke
// URL) with the SDK's default credentials and region.
func New(ctx context.Context, apiURL string) (*Client, error) {
	api, err := client.NewFromDefaults(ctx, apiURL)
	if err != nil {
		return nil, err
	}
	return &Client{api: api}, nil
}

// NewWithConfig returns a client using the credentials and region of cfg
// and the HTTP client (nil means one with a 10 s timeout).
func NewWithConfig(apiURL string, cfg aws.Config, httpClient *http.Client) (*Client, error) {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	api, err := client.New(cfg, apiURL, func(o *client.Options) { o.HTTPClient = httpClient; o.UserAgent = "stopcoord-workerkit" })
	if err != nil {
		return nil, err
	}
	return &Client{api: api}, nil
}

// ParseContext reads the callback context a worker receives (the Lambda
// event, or the SQS message body).
func ParseContext(payload []byte) (callback.Context, error) {
	var cc callback.Context
	if err := json.Unmarshal(payload, &cc); err != nil {
		return callback.Context{}, fmt.Errorf("decode callback context: %w", err)
	}
	if err := pipeline.ValidateCallbackToken(cc.Token); err != nil {
		return callback.Context{}, fmt.Errorf("decode callback context: %w", err)
	}
	if cc.ExecutionARN == "" {
		return callback.Context{}, errors.New("decode callback context: pipelineExecutionArn is missing")
	}
	return cc, nil
}

// APIError is a refusal from the stop API.
type APIError = client.APIError

// Answered reports whether err says the token was answered already, or is
// being answered: its cleanup has run or is running without the resource,
// so the worker must stop what it started itself.
func Answered(err error) bool { return client.HasCode(err, client.CodeConflict) }

// Register adds resources to the cleanup plan of the callback in cc and
// returns the plan as it now stands. Registering a resource twice is
// harmless. Call it as soon as each resource exists.
func (c *Client) Register(ctx context.Context, cc callback.Context, resources ...pipeline.Resource) ([]pipeline.Resource, error) {
	in := &client.RegisterResourcesInput{Token: cc.Token, ExecutionARN: cc.ExecutionARN, Resources: make([]client.Resource, len(resources))}
	for i, r := range resources {
		in.Resources[i] = client.Resource{Kind: r.Kind, ID: r.ID, Params: r.Params}
	}
	out, err := c.api.RegisterResources(ctx, in)
	if err != nil {
		return nil, err
	}
	plan := make([]pipeline.Resource, len(out.CleanupPlan))
	for i, r := range out.CleanupPlan {
		plan[i] = pipeline.Resource{Kind: r.Kind, ID: r.ID, Params: r.Params, RegisteredBy: r.RegisteredBy}
	}
	return plan, nil
}
