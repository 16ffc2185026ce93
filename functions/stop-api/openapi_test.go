package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	apispec "github.com/stopcoord/stopcoord/api"
	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// The OpenAPI document, loaded once per test binary.
var openAPI = sync.OnceValues(func() (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(apispec.OpenAPI)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return v, nil
})

// openAPIProblems validates resp, the handler's answer to ev, against
// api/openapi.yaml and returns what does not match.
func openAPIProblems(t testing.TB, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) []string {
	t.Helper()
	v, err := openAPI()
	if err != nil {
		t.Fatalf("load api/openapi.yaml: %v", err)
	}
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		method, _, _ = strings.Cut(ev.RouteKey, " ")
	}
	target := "https://abc123.execute-api.us-east-1.amazonaws.com" + ev.RawPath
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	req, err := http.NewRequest(method, target, strings.NewReader(ev.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, val := range ev.Headers {
		req.Header.Set(k, val)
	}
	header := http.Header{}
	for k, val := range resp.Headers {
		header.Set(k, val)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	httpResp := &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(resp.Body)), Request: req}
	if ok, errs := v.ValidateHttpResponse(req, httpResp); !ok {
		var out []string
		for _, e := range errs {
			msg := e.Message + ": " + e.Reason
			for _, se := range e.SchemaValidationErrors {
				msg += "; " + se.Reason + " at " + se.FieldPath
			}
			out = append(out, msg)
		}
		return out
	}
	return nil
}

// checkOpenAPI fails the test when the handler's answer does not match the
// document.
func checkOpenAPI(t testing.TB, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if problems := openAPIProblems(t, ev, resp); len(problems) > 0 {
		t.Errorf("%s answered %d %s, which api/openapi.yaml does not allow:\n  %s", ev.RouteKey, resp.StatusCode, resp.Body, strings.Join(problems, "\n  "))
	}
}

// invokeChecked pushes an event through the Lambda runtime's decode path
// and checks the answer against the OpenAPI document.
func invokeChecked(t testing.TB, h *handler, raw []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	ev, resp := invoke(t, h, raw)
	checkOpenAPI(t, ev, resp)
	return resp
}

// invoke pushes an event through the Lambda runtime's decode path.
func invoke(t testing.TB, h *handler, raw []byte) (events.APIGatewayV2HTTPRequest, events.APIGatewayV2HTTPResponse) {
	t.Helper()
	out, err := lambda.NewHandler(h.handle).Invoke(context.Background(), raw)
	if err != nil {
		t.Fatalf("handler returned an error (a 5xx at API Gateway): %v", err)
	}
	var ev events.APIGatewayV2HTTPRequest
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	return ev, resp
}

// TestOpenAPIRejectsWhatItShould keeps the check honest: answers the
// document does not allow are reported.
func TestOpenAPIRejectsWhatItShould(t *testing.T) {
	raw, _ := samples.FS.ReadFile("apigw/get-stop.json")
	var ev events.APIGatewayV2HTTPRequest
	json.Unmarshal(raw, &ev)
	for name, resp := range map[string]events.APIGatewayV2HTTPResponse{
		"unknown error code":   {StatusCode: 400, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"code":"oops","message":"x"}`},
		"error without code":   {StatusCode: 409, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"message":"x"}`},
		"undeclared status":    {StatusCode: 418, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"code":"invalid","message":"x"}`},
		"stop without a phase": {StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: `{"stop":{"id":"stop-1"},"execution":{}}`},
	} {
		if problems := openAPIProblems(t, ev, resp); len(problems) == 0 {
			t.Errorf("%s: accepted %d %s", name, resp.StatusCode, resp.Body)
		}
	}
}

// TestOpenAPICoversEveryRoute: the document describes exactly the routes
// the samples exercise (and the handler serves).
func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc, err := libopenapi.NewDocument(apispec.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	entries, _ := samples.FS.ReadDir("apigw")
	var sampled []string
	for _, e := range entries {
		if e.Name() == "unknown-route.json" { // a route API Gateway would not even pass on
			continue
		}
		raw, _ := samples.FS.ReadFile("apigw/" + e.Name())
		var ev events.APIGatewayV2HTTPRequest
		json.Unmarshal(raw, &ev)
		if !slices.Contains(sampled, ev.RouteKey) {
			sampled = append(sampled, ev.RouteKey)
		}
	}
	sort.Strings(documented)
	sort.Strings(sampled)
	if !slices.Equal(documented, sampled) {
		t.Fatalf("api/openapi.yaml documents %v; the samples exercise %v", documented, sampled)
	}
	// Every error code the edge can produce is one the document names.
	for _, code := range []string{pipeline.EInvalid, "too_large", pipeline.EUnauthorized, pipeline.ENotFound, pipeline.EConflict, pipeline.EThrottled, pipeline.EUnavailable, pipeline.EInternal} {
		if !strings.Contains(string(apispec.OpenAPI), code) {
			t.Errorf("error code %s is not in the document", code)
		}
	}
}

// TestEveryErrorMatchesTheDocument: each error code the coordinator can
// answer, on each route, is a response the document allows.
func TestEveryErrorMatchesTheDocument(t *testing.T) {
	codes := []string{pipeline.EInvalid, pipeline.EUnauthorized, pipeline.ENotFound, pipeline.EConflict, pipeline.EThrottled, pipeline.EUnavailable, pipeline.EInternal}
	for _, sample := range []string{"stop.json", "stop-pipeline-execution.json", "bulk-stop.json", "get-stop.json", "get-pipeline-execution.json", "get-execution.json", "register-resources.json", "list-stops.json"} {
		raw, err := samples.FS.ReadFile("apigw/" + sample)
		if err != nil {
			t.Fatal(err)
		}
		for _, code := range codes {
			f := &fakeCoordinator{err: pipeline.Errorf(code, "a %s answer", code)}
			ev, resp := invoke(t, &handler{coord: f, maxBodyBytes: DefaultMaxBodyBytes, home: testHome}, raw)
			if problems := openAPIProblems(t, ev, resp); len(problems) > 0 {
				// Conflicts are not declared where a route cannot produce one.
				if code == pipeline.EConflict && (strings.HasPrefix(ev.RouteKey, "GET ")) {
					continue
				}
				t.Errorf("%s, coordinator answers %s: %d %s does not match the document: %v", sample, code, resp.StatusCode, resp.Body, problems)
			}
		}
	}
}
