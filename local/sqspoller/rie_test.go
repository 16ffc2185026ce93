package sqspoller_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sqspoller"
)

// A function under RIE is what the local stack hands to the poller.
var _ sqspoller.Invoker = (*rie.Function)(nil)

// TestPollerWithFunctionUnderRIE is the whole local path: moto SQS, the
// poller, and a real Go bootstrap under aws-lambda-rie that reports the
// records whose body contains "fail" as batch item failures. The others are
// deleted; the failed one comes back for a second delivery.
func TestPollerWithFunctionUnderRIE(t *testing.T) {
	t.Parallel()
	fn := rie.StartT(t, rie.Spec{Bootstrap: rie.BuildT(t, "./testdata/partial"), Name: "partial", Timeout: 5 * time.Second})
	c := sqsClient(t)
	url, arn := createQueue(t, c, map[string]string{"VisibilityTimeout": "1"})
	send(t, c, url, "ok-1", "fail-2", "ok-3")
	p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn, ReportBatchItemFailures: true}, fn, testLogger(t))

	got, err := p.PollOnce(context.Background())
	if err != nil {
		t.Fatalf("PollOnce: %v\n%s", err, fn.Output())
	}
	if want := (sqspoller.Stats{Received: 3, Deleted: 2, Failed: 1}); got != want {
		t.Fatalf("stats %+v, want %+v\nfunction output:\n%s", got, want, fn.Output())
	}
	back := receiveN(t, c, url, 1, 5*time.Second)
	var bodies []string
	for _, m := range back {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	if !slices.Equal(bodies, []string{"fail-2"}) {
		t.Fatalf("redelivered %v, want [fail-2]", bodies)
	}
	if n := back[0].Attributes["ApproximateReceiveCount"]; n != "2" {
		t.Errorf("ApproximateReceiveCount %s, want 2", n)
	}
	if vis, inFlight := counts(t, c, url); vis != 0 || inFlight != 1 {
		t.Errorf("queue has %d visible and %d in flight, want only the redelivered message (in flight)", vis, inFlight)
	}
}
