// Package apigw builds API Gateway HTTP API (payload format 2.0) events the
// way API Gateway does for an IAM-authorised route, for the local gateway
// and for tests that invoke the stop API under aws-lambda-rie.
package apigw

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Request is one HTTP request to a route.
type Request struct {
	Method     string
	RouteKey   string            // "POST /stops"; empty means Method + " " + Path
	Path       string            // the raw path, "/stops"
	PathParams map[string]string // as API Gateway extracts them (still URL-encoded)
	Headers    map[string]string
	Body       string
	// CallerARN is the IAM principal API Gateway's IAM authoriser reports;
	// empty sends no authoriser context.
	CallerARN string
	AccountID string
}

// Event builds the event API Gateway would send the function.
func Event(r Request) events.APIGatewayV2HTTPRequest {
	route := r.RouteKey
	if route == "" {
		route = r.Method + " " + r.Path
	}
	headers := map[string]string{"content-type": "application/json", "accept": "application/json"}
	for k, v := range r.Headers {
		headers[strings.ToLower(k)] = v // the v2 payload lower-cases header names
	}
	account := r.AccountID
	if account == "" {
		account = "123456789012"
	}
	now := time.Now().UTC()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       route,
		RawPath:        r.Path,
		Headers:        headers,
		PathParameters: r.PathParams,
		Body:           r.Body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     route,
			AccountID:    account,
			APIID:        "local",
			Stage:        "$default",
			RequestID:    fmt.Sprintf("local-%d", now.UnixNano()),
			Time:         now.Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    now.UnixMilli(),
			DomainName:   "127.0.0.1",
			DomainPrefix: "local",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.Path, Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "stopcoord-local",
			},
		},
	}
	if r.CallerARN != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{AccountID: account, UserARN: r.CallerARN, CallerID: "local"},
		}
	}
	return ev
}

// Marshal is Event as the JSON payload Lambda receives.
func Marshal(r Request) []byte {
	b, _ := json.Marshal(Event(r)) // a struct of strings and maps cannot fail
	return b
}

// Response decodes a function's API Gateway v2 response.
func Response(payload []byte) (events.APIGatewayV2HTTPResponse, error) {
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(payload, &resp); err != nil {
		return resp, fmt.Errorf("decode API Gateway response %.200q: %w", payload, err)
	}
	return resp, nil
}
