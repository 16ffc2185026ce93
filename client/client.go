// Package client is the Go client of the stopcoord stop API: typed requests
// and responses for every route (api/openapi.yaml), requests signed with
// SigV4 for the API's IAM authorisation using the SDK's default credential
// chain, retries with the SDK's standard retryer, and a StopWaiter that
// polls a stop until its execution has ended, in the manner of the SDK's
// waiters.
//
//	c, err := client.NewFromDefaults(ctx, apiURL)
//	out, err := c.StopExecution(ctx, &client.StopExecutionInput{Execution: "train/p4jn9xou8a8s", Reason: "cost"})
//	stop, err := client.NewStopWaiter(c).WaitForOutput(ctx, &client.GetStopInput{StopID: out.Stop.ID}, 30*time.Minute)
package client

import (
	"bytes"
	"context"
	"crypto/rand"
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
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

// SigningName is the SigV4 service name of API Gateway.
const SigningName = "execute-api"

// maxResponseBytes bounds what is read of one response.
const maxResponseBytes = 4 << 20

// HTTPClient sends requests; *http.Client satisfies it.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Options configure a Client.
type Options struct {
	// Endpoint is the API's base URL: the stack's ApiUrl output.
	Endpoint string
	// Region and Credentials sign requests (SigV4, service execute-api).
	Region      string
	Credentials aws.CredentialsProvider
	// HTTPClient sends the requests. Default: a client with a 30 s timeout.
	HTTPClient HTTPClient
	// Retryer decides whether and when to try again: throttling, 5xx and
	// connection errors, as the SDK's clients do. Default retry.NewStandard.
	// Stops and bulk stops carry an Idempotency-Key, so a retry never
	// makes a second stop.
	Retryer aws.Retryer
	// Now is the signing clock. Default time.Now.
	Now func() time.Time
	// UserAgent is sent with every request.
	UserAgent string
}

// Client calls the stop API. It is safe for concurrent use.
type Client struct {
	opts     Options
	endpoint *url.URL
	signer   *v4.Signer
}

// New returns a client with the region and credentials of cfg (as loaded
// by config.LoadDefaultConfig) for the API at endpoint.
func New(cfg aws.Config, endpoint string, optFns ...func(*Options)) (*Client, error) {
	opts := Options{Endpoint: endpoint, Region: cfg.Region, Credentials: cfg.Credentials}
	for _, fn := range optFns {
		fn(&opts)
	}
	return NewWithOptions(opts)
}

// NewFromDefaults loads the SDK's default configuration (environment,
// shared config and credentials files, SSO, IMDS...) and returns a client
// for the API at endpoint.
func NewFromDefaults(ctx context.Context, endpoint string, optFns ...func(*Options)) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration for the stop API client: %w", err)
	}
	return New(cfg, endpoint, optFns...)
}

// NewWithOptions returns a client configured by opts alone.
func NewWithOptions(opts Options) (*Client, error) {
	var errs []error
	u, err := url.Parse(strings.TrimSuffix(opts.Endpoint, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("stop API endpoint %q is not an http(s) URL", opts.Endpoint))
	}
	if opts.Region == "" {
		errs = append(errs, errors.New("no AWS region to sign requests with: set AWS_REGION or a profile's region"))
	}
	if opts.Credentials == nil {
		errs = append(errs, errors.New("no AWS credentials to sign requests with"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("stop API client: %w", err)
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.Retryer == nil {
		opts.Retryer = retry.NewStandard()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "stopcoord-client-go"
	}
	return &Client{opts: opts, endpoint: u, signer: v4.NewSigner()}, nil
}

// Endpoint is the API's base URL.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// request is one call: method, path segments (escaped here), optional query,
// headers and JSON body.
type request struct {
	method   string
	segments []string
	query    url.Values
	header   http.Header
	body     any // nil: no body
}

// do sends r, retrying what the retryer allows, and decodes a 2xx answer
// into out. Every attempt is signed afresh (the signature dates it).
func (c *Client) do(ctx context.Context, op string, r request, out any) (int, error) {
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return 0, fmt.Errorf("%s: encode the request: %w", op, err)
		}
	}
	// release returns the retry quota a retry took once that retry's
	// outcome is known, as the SDK's retry middleware does.
	release := func(error) error { return nil }
	for attempt := 1; ; attempt++ {
		status, err := c.attempt(ctx, r, payload, out)
		_ = release(err)
		if err == nil {
			return status, nil
		}
		if ctx.Err() != nil {
			return status, fmt.Errorf("%s: %w", op, err)
		}
		if attempt >= c.opts.Retryer.MaxAttempts() || !c.opts.Retryer.IsErrorRetryable(err) {
			return status, fmt.Errorf("%s: %w", op, err)
		}
		delay, derr := c.opts.Retryer.RetryDelay(attempt, err)
		if derr != nil {
			return status, fmt.Errorf("%s: %w", op, err)
		}
		var terr error
		if release, terr = c.opts.Retryer.GetRetryToken(ctx, err); terr != nil {
			// The retry quota is spent: give up with the real error.
			return status, fmt.Errorf("%s: %w", op, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return status, fmt.Errorf("%s: %w (after %d attempts, last: %v)", op, ctx.Err(), attempt, err)
		case <-t.C:
		}
	}
}

func (c *Client) attempt(ctx context.Context, r request, payload []byte, out any) (int, error) {
	u := *c.endpoint
	escaped := make([]string, len(r.segments))
	for i, s := range r.segments {
		escaped[i] = url.PathEscape(s)
	}
	u.Path = strings.TrimSuffix(c.endpoint.Path, "/") + "/" + strings.Join(r.segments, "/")
	u.RawPath = strings.TrimSuffix(c.endpoint.EscapedPath(), "/") + "/" + strings.Join(escaped, "/")
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader = http.NoBody
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return 0, err
	}
	for k, vs := range r.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.sign(ctx, req, payload); err != nil {
		return 0, fmt.Errorf("sign the request: %w", err)
	}
	resp, err := c.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err // connection errors are retryable (retry.RetryableConnectionError)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, newAPIError(resp, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode the answer (%d, %.200q): %w", resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode, nil
}

// sign adds the SigV4 headers. The SDK's signer URI-encodes the already
// escaped path once more, as API Gateway expects of every service but S3.
func (c *Client) sign(ctx context.Context, req *http.Request, payload []byte) error {
	creds, err := c.opts.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(payload)
	return c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), SigningName, c.opts.Region, c.opts.Now())
}

// newIdempotencyKey makes a key for a call whose caller gave none, so the
// client's own retries of it are recognised as one request.
func newIdempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "stopcoord-go-" + hex.EncodeToString(b)
}
