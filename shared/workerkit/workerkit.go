// Package workerkit is for the code a callback step hands its work to: it
// reads the callback context stopcoord sends, and registers what the worker
// started (a Step Functions execution, a Glue run, a Batch job...) against
// the step's token through the stop API, so that a stop of the pipeline
// cleans it up. Requests are signed with SigV4 for the API's IAM
// authorisation, using the SDK's default credentials.
package workerkit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// signingService is the SigV4 service name of API Gateway.
const signingService = "execute-api"

// maxResponseBytes bounds what is read of an API response.
const maxResponseBytes = 1 << 20

// Client registers resources with the stop API.
type Client struct {
	apiURL string
	http   *http.Client
	creds  aws.CredentialsProvider
	region string
	signer *v4.Signer
	now    func() time.Time
}

// New returns a client for the stop API at apiURL (the HTTP API's invoke
// URL) with the SDK's default credentials and region.
func New(ctx context.Context, apiURL string) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for the stop API client: %w", err)
	}
	return NewWithConfig(apiURL, cfg, nil)
}

// NewWithConfig returns a client using the credentials and region of cfg
// and the HTTP client (nil means one with a 10 s timeout).
func NewWithConfig(apiURL string, cfg aws.Config, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("stop API URL %q is not an http(s) URL", apiURL)
	}
	if cfg.Credentials == nil || cfg.Region == "" {
		return nil, errors.New("stop API client needs AWS credentials and a region to sign requests")
	}
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &Client{apiURL: strings.TrimSuffix(apiURL, "/"), http: httpClient, creds: cfg.Credentials, region: cfg.Region, signer: v4.NewSigner(), now: time.Now}, nil
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
type APIError struct {
	Status  int
	Code    string // invalid, unauthorized, not_found, conflict, ...
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("stop API answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Answered reports whether err says the token was answered already, or is
// being answered: its cleanup has run or is running without the resource,
// so the worker must stop what it started itself.
func Answered(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Code == pipeline.EConflict
}

// Register adds resources to the cleanup plan of the callback in cc and
// returns the plan as it now stands. Registering a resource twice is
// harmless. Call it as soon as each resource exists.
func (c *Client) Register(ctx context.Context, cc callback.Context, resources ...pipeline.Resource) ([]pipeline.Resource, error) {
	body, err := json.Marshal(struct {
		ExecutionARN string              `json:"pipelineExecutionArn"`
		Resources    []pipeline.Resource `json:"resources"`
	}{cc.ExecutionARN, resources})
	if err != nil {
		return nil, fmt.Errorf("encode resources of %s: %w", cc.Token, err)
	}
	endpoint := c.apiURL + "/callbacks/" + url.PathEscape(cc.Token) + "/resources"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("register resources of %s: %w", cc.Token, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := c.sign(ctx, req, body); err != nil {
		return nil, fmt.Errorf("sign the registration of %s: %w", cc.Token, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("register resources of %s: %w", cc.Token, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("read the stop API's answer for %s: %w", cc.Token, err)
	}
	if resp.StatusCode/100 != 2 {
		apiErr := &APIError{Status: resp.StatusCode}
		var e struct{ Code, Message string }
		if json.Unmarshal(raw, &e) == nil {
			apiErr.Code, apiErr.Message = e.Code, e.Message
		}
		return nil, fmt.Errorf("register resources of %s: %w", cc.Token, apiErr)
	}
	var out struct {
		CleanupPlan []pipeline.Resource `json:"cleanupPlan"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("decode the stop API's answer for %s: %w", cc.Token, err)
	}
	return out.CleanupPlan, nil
}

// sign adds the SigV4 headers for API Gateway's IAM authorisation.
func (c *Client) sign(ctx context.Context, req *http.Request, body []byte) error {
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	return c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingService, c.region, c.now())
}
