package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stopcoord/stopcoord/client"
)

// BenchmarkGetStop is the client's own cost per call: sign, send over
// loopback, decode a GET /stops/{id} answer (the server does nothing).
func BenchmarkGetStop(b *testing.B) {
	body := `{"stop":` + stopBody[len(`{"stop":`):len(stopBody)-len(`,"alreadyStopping":false}`)] + `,"execution":{"executionArn":"arn","pipelineName":"train","status":"Stopping","terminal":false,"source":"ledger","steps":[],"blocking":{"openCallbacks":[],"runningLambdas":[]},"stops":[],"timeline":[]}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c, err := client.New(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}, srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetStop(ctx, &client.GetStopInput{StopID: "stop-1"}); err != nil {
			b.Fatal(err)
		}
	}
}
