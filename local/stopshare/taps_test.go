package stopshare

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/stopcoord/stopcoord/local/sqspoller"
)

func post(t *testing.T, url, target, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", target)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSageMakerTapCountsOnlyAcceptedStops: a stop SageMaker throttled did
// not start SageMaker's part; the accepted retry did.
func TestSageMakerTapCountsOnlyAcceptedStops(t *testing.T) {
	calls := 0
	sageMaker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			w.WriteHeader(http.StatusBadRequest) // ThrottlingException
		}
	}))
	defer sageMaker.Close()
	tap := NewSageMakerTap()
	defer tap.Close()
	if err := tap.SetTarget(sageMaker.URL); err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/x1"
	body := `{"PipelineExecutionArn":"` + arn + `"}`
	post(t, tap.URL(), "SageMaker.StopPipelineExecution", body)
	if got := tap.StopReceived(arn); !got.IsZero() {
		t.Fatalf("a throttled stop counted as received at %v", got)
	}
	post(t, tap.URL(), "SageMaker.StopPipelineExecution", body)
	first := tap.StopReceived(arn)
	if first.IsZero() {
		t.Fatal("the accepted stop was not noted")
	}
	post(t, tap.URL(), "SageMaker.StopPipelineExecution", body)
	post(t, tap.URL(), "SageMaker.DescribePipelineExecution", body)
	if got := tap.StopReceived(arn); !got.Equal(first) {
		t.Errorf("a later stop moved the first from %v to %v", first, got)
	}
	if calls != 4 {
		t.Errorf("SageMaker saw %d calls through the tap, want 4", calls)
	}
}

// TestSQSTapFirstSendAndDelivery: the tap notes the Stopping message SQS
// accepted and its first handing to the function; a redelivery does not
// move it, and the function still gets every batch.
func TestSQSTapFirstSendAndDelivery(t *testing.T) {
	sqs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	defer sqs.Close()
	tap, err := NewSQSTap(sqs.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer tap.Close()
	if _, err := NewSQSTap("not a url"); err == nil {
		t.Error("a bad SQS endpoint was taken")
	}
	msg := func(token, status string) string {
		b, _ := json.Marshal(map[string]any{"token": token, "pipelineExecutionArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/x1", "status": status})
		return string(b)
	}
	send := func(body string) {
		b, _ := json.Marshal(map[string]string{"QueueUrl": "q", "MessageBody": body})
		post(t, tap.URL(), "AmazonSQS.SendMessage", string(b))
	}
	send(msg("TokenAAAA1", "Executing"))
	send(msg("TokenAAAA1", "Stopping"))
	sent, delivered := tap.Stopping([]string{"TokenAAAA1", "TokenBBBB1"})
	if len(sent) != 1 || sent["TokenAAAA1"].IsZero() || len(delivered) != 0 {
		t.Fatalf("sent %v delivered %v, want TokenAAAA1's Stopping message sent and not yet delivered", sent, delivered)
	}
	invoked := 0
	inv := tap.Invoker(sqspoller.InvokerFunc(func(context.Context, []byte) ([]byte, error) { invoked++; return []byte(`{}`), nil }))
	batch, _ := json.Marshal(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: msg("TokenAAAA1", "Stopping")}}})
	inv.Invoke(context.Background(), batch)
	_, delivered = tap.Stopping([]string{"TokenAAAA1"})
	first := delivered["TokenAAAA1"]
	inv.Invoke(context.Background(), batch) // redelivered
	_, delivered = tap.Stopping([]string{"TokenAAAA1"})
	if first.IsZero() || !delivered["TokenAAAA1"].Equal(first) || invoked != 2 {
		t.Errorf("delivered %v then %v, function invoked %d times; want the first delivery kept and 2 invocations", first, delivered["TokenAAAA1"], invoked)
	}
}
