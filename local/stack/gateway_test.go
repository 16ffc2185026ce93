package stack

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stopcoord/stopcoord/client"
)

// echo is a function that answers with the caller API Gateway reported.
type echo struct{ calls int }

func (e *echo) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	e.calls++
	var ev events.APIGatewayV2HTTPRequest
	json.Unmarshal(payload, &ev)
	caller := ""
	if a := ev.RequestContext.Authorizer; a != nil && a.IAM != nil {
		caller = a.IAM.UserARN
	}
	body, _ := json.Marshal(map[string]any{"stop": map[string]string{"id": "stop-1", "requestedBy": caller}, "execution": map[string]any{}})
	return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(body)})
}

func TestGatewayAuthorisesAsAPIGateway(t *testing.T) {
	for _, required := range []bool{false, true} {
		fn := &echo{}
		g := newGateway(Config{RequireSigV4: required}, slog.New(slog.DiscardHandler))
		g.routes = []route{newRoute("GET /stops/{id}", fn)}
		srv := httptest.NewServer(g)
		defer srv.Close()

		// Signed with the local credentials: the caller is their principal.
		c, err := client.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.GetStop(context.Background(), &client.GetStopInput{StopID: "stop-1"})
		if err != nil || out.Stop.RequestedBy != DefaultCaller {
			t.Fatalf("required=%v: signed request: %+v, %v", required, out, err)
		}
		// Signed with a wrong secret: refused before the function.
		bad, _ := client.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "nope", "")}, srv.URL)
		if _, err := bad.GetStop(context.Background(), &client.GetStopInput{StopID: "stop-1"}); !client.HasCode(err, "forbidden") {
			t.Fatalf("required=%v: badly signed request: %v", required, err)
		}
		// Unsigned: refused when signatures are required, else the caller header.
		req, _ := http.NewRequest("GET", srv.URL+"/stops/stop-1", nil)
		req.Header.Set(CallerHeader, "arn:aws:iam::123456789012:user/someone")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case required && (resp.StatusCode != 403 || !strings.Contains(string(body), "Forbidden")):
			t.Fatalf("unsigned request with signatures required: %d %s", resp.StatusCode, body)
		case !required && !strings.Contains(string(body), "user/someone"):
			t.Fatalf("unsigned local request: %d %s", resp.StatusCode, body)
		}
		if want := map[bool]int{true: 1, false: 2}[required]; fn.calls != want {
			t.Fatalf("required=%v: the function ran %d times, want %d", required, fn.calls, want)
		}
	}
}
