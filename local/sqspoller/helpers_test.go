package sqspoller_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/procs"
)

// One moto_server serves every test in the package (each test makes its own
// queues), which saves a start per test and lets the cases run in parallel.
var (
	motoOnce sync.Once
	motoSrv  *moto.Server
	motoErr  error
	queueSeq atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if motoSrv != nil {
		motoSrv.Stop()
	}
	os.Exit(code)
}

// sqsClient returns an SDK client for the package's moto_server, starting it
// on first use; it skips (fails in CI) when moto_server is missing.
func sqsClient(t *testing.T) *sqs.Client {
	t.Helper()
	path := procs.RequireTool(t, "moto_server", moto.InstallHint)
	motoOnce.Do(func() { motoSrv, motoErr = moto.Start(context.Background(), path) })
	if motoErr != nil {
		t.Fatal(motoErr)
	}
	cfg, err := localaws.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(motoSrv.URL) })
}

var notQueueChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// createQueue makes a queue with a name unique to the test and returns its
// URL and ARN.
func createQueue(t *testing.T, c *sqs.Client, attrs map[string]string) (url, arn string) {
	t.Helper()
	ctx := context.Background()
	name := notQueueChars.ReplaceAllString(t.Name(), "-")
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	name = fmt.Sprintf("q%d-%s", queueSeq.Add(1), name)
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("get ARN of %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
}

// send puts one message per body on the queue and returns the message ids by body.
func send(t *testing.T, c *sqs.Client, url string, bodies ...string) map[string]string {
	t.Helper()
	entries := make([]types.SendMessageBatchRequestEntry, len(bodies))
	for i, b := range bodies {
		entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(b)}
	}
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
	if err != nil || len(out.Failed) > 0 {
		t.Fatalf("send %v: %v %+v", bodies, err, out)
	}
	ids := map[string]string{}
	for _, s := range out.Successful {
		i, _ := strconv.Atoi(aws.ToString(s.Id))
		ids[bodies[i]] = aws.ToString(s.MessageId)
	}
	return ids
}

// counts returns how many messages are visible and how many are in flight.
func counts(t *testing.T, c *sqs.Client, url string) (visible, inFlight int) {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatalf("get counts of %s: %v", url, err)
	}
	visible, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	inFlight, _ = strconv.Atoi(out.Attributes["ApproximateNumberOfMessagesNotVisible"])
	return visible, inFlight
}

// receiveN long-polls until n messages have arrived or the deadline
// (stretched by procs.Slowdown) passes, and returns what arrived; the
// test's own receives hide messages for 30 s so that they are not counted
// twice.
func receiveN(t *testing.T, c *sqs.Client, url string, n int, within time.Duration) []types.Message {
	t.Helper()
	deadline := time.Now().Add(procs.Scaled(within))
	var got []types.Message
	for len(got) < n && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(url),
			MaxNumberOfMessages:         10,
			WaitTimeSeconds:             1,
			VisibilityTimeout:           30,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("receive from %s: %v", url, err)
		}
		got = append(got, out.Messages...)
	}
	return got
}

// testLogger writes the poller's logs into the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
