package sqspoller_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/sqspoller"
)

// respondFunc is a fake function: it gets the decoded event and answers.
type respondFunc func(ev events.SQSEvent) ([]byte, error)

// fake turns a respondFunc into an Invoker that decodes the payload first.
func fake(t *testing.T, respond respondFunc) sqspoller.InvokerFunc {
	return func(_ context.Context, payload []byte) ([]byte, error) {
		var ev events.SQSEvent
		if err := json.Unmarshal(payload, &ev); err != nil {
			t.Errorf("payload is not an SQS event: %v\n%s", err, payload)
		}
		return respond(ev)
	}
}

// failing answers with batch item failures for the records with these bodies.
func failing(bodies ...string) respondFunc {
	return func(ev events.SQSEvent) ([]byte, error) {
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if slices.Contains(bodies, r.Body) {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		return json.Marshal(resp)
	}
}

func answer(s string) respondFunc {
	return func(events.SQSEvent) ([]byte, error) { return []byte(s), nil }
}

// TestPollOnceSettlesTheBatch runs one poll per case against moto and
// checks which messages the poller deleted and which come back, and that
// those come back as a second receive (after the 1 s visibility timeout).
func TestPollOnceSettlesTheBatch(t *testing.T) {
	t.Parallel() // it waits out visibility timeouts; let others run meanwhile
	bodies := []string{"m0", "m1", "m2", "m3", "m4"}
	cases := []struct {
		name         string
		report       bool // ReportBatchItemFailures
		respond      respondFunc
		wantReturned []string // bodies redelivered; the rest must be deleted
	}{
		{name: "all succeed", respond: answer(`null`)},
		{name: "empty response with reporting", report: true, respond: answer(``)},
		{name: "empty failure list", report: true, respond: answer(`{"batchItemFailures":[]}`)},
		{name: "null failure list", report: true, respond: answer(`{"batchItemFailures":null}`)},
		{name: "response of another shape", report: true, respond: answer(`"done"`)},
		{name: "batch item failures", report: true, respond: failing("m1", "m3"), wantReturned: []string{"m1", "m3"}},
		{name: "failures ignored without reporting", respond: failing("m1", "m3")},
		{name: "identifier not in the batch", report: true, wantReturned: bodies,
			respond: func(ev events.SQSEvent) ([]byte, error) {
				return fmt.Appendf(nil, `{"batchItemFailures":[{"itemIdentifier":%q},{"itemIdentifier":"not-a-message"}]}`, ev.Records[0].MessageId), nil
			}},
		{name: "empty identifier", report: true, respond: answer(`{"batchItemFailures":[{"itemIdentifier":""}]}`), wantReturned: bodies},
		{name: "wrong key name", report: true, wantReturned: bodies,
			respond: func(ev events.SQSEvent) ([]byte, error) {
				return fmt.Appendf(nil, `{"batchItemFailures":[{"messageId":%q}]}`, ev.Records[0].MessageId), nil
			}},
		{name: "failure list of another shape", report: true, respond: answer(`{"batchItemFailures":"m1"}`), wantReturned: bodies},
		{name: "response not JSON", report: true, respond: answer(`Task done`), wantReturned: bodies},
		{name: "function error", report: true, wantReturned: bodies,
			respond: func(events.SQSEvent) ([]byte, error) { return nil, errors.New("handler failed") }},
		{name: "function error without reporting", wantReturned: bodies,
			respond: func(events.SQSEvent) ([]byte, error) { return nil, errors.New("handler failed") }},
		{name: "function panics", report: true, wantReturned: bodies,
			respond: func(events.SQSEvent) ([]byte, error) { panic("in-process handler bug") }},
	}
	c := sqsClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url, arn := createQueue(t, c, map[string]string{"VisibilityTimeout": "1"})
			send(t, c, url, bodies...)
			p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn, ReportBatchItemFailures: tc.report}, fake(t, tc.respond), testLogger(t))

			got, err := p.PollOnce(ctx)
			if err != nil {
				t.Fatalf("PollOnce: %v", err)
			}
			k := len(tc.wantReturned)
			want := sqspoller.Stats{Received: len(bodies), Deleted: len(bodies) - k, Failed: k}
			if got != want {
				t.Fatalf("stats %+v, want %+v", got, want)
			}
			// Deleted messages are gone at once; failed ones are in flight
			// until their visibility timeout, untouched by the poller.
			if vis, inFlight := counts(t, c, url); vis != 0 || inFlight != k {
				t.Fatalf("queue has %d visible and %d in flight after the poll, want 0 and %d", vis, inFlight, k)
			}
			if k == 0 {
				return
			}
			back := receiveN(t, c, url, k, 5*time.Second)
			var gotBodies []string
			for _, m := range back {
				gotBodies = append(gotBodies, aws.ToString(m.Body))
				if n := m.Attributes["ApproximateReceiveCount"]; n != "2" {
					t.Errorf("redelivered %s has ApproximateReceiveCount %s, want 2", aws.ToString(m.Body), n)
				}
			}
			slices.Sort(gotBodies)
			if !slices.Equal(gotBodies, tc.wantReturned) {
				t.Fatalf("redelivered %v, want %v", gotBodies, tc.wantReturned)
			}
		})
	}
}

// TestPollOnceEvent checks the event the function gets, field by field,
// against what SQS said about the message and what Lambda sends.
func TestPollOnceEvent(t *testing.T) {
	ctx := context.Background()
	c := sqsClient(t)
	url, arn := createQueue(t, c, nil)
	sent, err := c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(url),
		MessageBody: aws.String(`{"order":42}`),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"kind":  {DataType: aws.String("String"), StringValue: aws.String("order")},
			"count": {DataType: aws.String("Number"), StringValue: aws.String("3")},
			"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte{1, 2, 3}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var payload []byte
	p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn}, sqspoller.InvokerFunc(func(_ context.Context, b []byte) ([]byte, error) {
		payload = b
		return nil, nil
	}), testLogger(t))
	if _, err := p.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}

	var ev events.SQSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatalf("payload is not an SQS event: %v\n%s", err, payload)
	}
	if len(ev.Records) != 1 {
		t.Fatalf("%d records, want 1\n%s", len(ev.Records), payload)
	}
	r := ev.Records[0]
	sum := md5.Sum([]byte(`{"order":42}`))
	str := func(p *string) string { return aws.ToString(p) }
	checks := []struct {
		field, got, want string
	}{
		{"messageId", r.MessageId, aws.ToString(sent.MessageId)},
		{"body", r.Body, `{"order":42}`},
		{"md5OfBody", r.Md5OfBody, hex.EncodeToString(sum[:])},
		{"md5OfMessageAttributes", r.Md5OfMessageAttributes, aws.ToString(sent.MD5OfMessageAttributes)},
		{"eventSource", r.EventSource, "aws:sqs"},
		{"eventSourceARN", r.EventSourceARN, arn},
		{"awsRegion", r.AWSRegion, "us-east-1"},
		{"attributes.ApproximateReceiveCount", r.Attributes["ApproximateReceiveCount"], "1"},
		{"messageAttributes.kind", str(r.MessageAttributes["kind"].StringValue) + "/" + r.MessageAttributes["kind"].DataType, "order/String"},
		{"messageAttributes.count", str(r.MessageAttributes["count"].StringValue) + "/" + r.MessageAttributes["count"].DataType, "3/Number"},
		{"messageAttributes.blob", fmt.Sprint(r.MessageAttributes["blob"].BinaryValue) + "/" + r.MessageAttributes["blob"].DataType, "[1 2 3]/Binary"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
	if r.ReceiptHandle == "" {
		t.Error("receiptHandle is empty")
	}
	if r.Attributes["SenderId"] == "" {
		t.Errorf("attributes.SenderId is empty: %v", r.Attributes)
	}
	sentAt, err1 := strconv.ParseInt(r.Attributes["SentTimestamp"], 10, 64)
	firstAt, err2 := strconv.ParseInt(r.Attributes["ApproximateFirstReceiveTimestamp"], 10, 64)
	if err1 != nil || err2 != nil || firstAt < sentAt || time.Since(time.UnixMilli(sentAt)) > time.Minute {
		t.Errorf("SentTimestamp %q and ApproximateFirstReceiveTimestamp %q are not recent epoch milliseconds in order",
			r.Attributes["SentTimestamp"], r.Attributes["ApproximateFirstReceiveTimestamp"])
	}

	// The raw JSON has Lambda's keys, with the list fields as [] not null.
	var raw struct {
		Records []map[string]json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil || len(raw.Records) != 1 {
		t.Fatalf("raw payload: %v\n%s", err, payload)
	}
	for _, key := range []string{"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody", "md5OfMessageAttributes", "eventSource", "eventSourceARN", "awsRegion"} {
		if _, ok := raw.Records[0][key]; !ok {
			t.Errorf("record has no %q key\n%s", key, payload)
		}
	}
	var attrs map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw.Records[0]["messageAttributes"], &attrs); err != nil {
		t.Fatal(err)
	}
	if got := string(attrs["kind"]["stringListValues"]) + string(attrs["kind"]["binaryListValues"]); got != "[][]" {
		t.Errorf("kind list values %s, want [] and [] as Lambda sends", got)
	}
}

// TestPollOnceHonoursBatchSize: no more than BatchSize messages per call.
func TestPollOnceHonoursBatchSize(t *testing.T) {
	c := sqsClient(t)
	url, arn := createQueue(t, c, nil)
	send(t, c, url, "a", "b", "c", "d", "e")
	var sizes []int
	p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn, BatchSize: 2}, fake(t, func(ev events.SQSEvent) ([]byte, error) {
		sizes = append(sizes, len(ev.Records))
		return nil, nil
	}), testLogger(t))
	total := 0
	for deadline := time.Now().Add(procs.Scaled(30 * time.Second)); total < 5 && time.Now().Before(deadline); {
		st, err := p.PollOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		total += st.Deleted
	}
	if total != 5 || slices.Max(sizes) > 2 {
		t.Fatalf("deleted %d in batches of %v, want 5 in batches of at most 2", total, sizes)
	}
}

// TestRedriveToDeadLetterQueue: a message the function always fails is
// received maxReceiveCount times, then SQS moves it to the DLQ, as in AWS.
func TestRedriveToDeadLetterQueue(t *testing.T) {
	t.Parallel() // it waits out visibility timeouts; let others run meanwhile
	ctx := context.Background()
	c := sqsClient(t)
	dlqURL, dlqARN := createQueue(t, c, nil)
	url, arn := createQueue(t, c, map[string]string{
		"VisibilityTimeout": "1",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"2"}`, dlqARN),
	})
	send(t, c, url, "poison")
	invocations := 0
	p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn}, fake(t, func(events.SQSEvent) ([]byte, error) {
		invocations++
		return nil, errors.New("cannot process")
	}), testLogger(t))

	var dead []types.Message
	for deadline := time.Now().Add(procs.Scaled(30 * time.Second)); len(dead) == 0 && time.Now().Before(deadline); {
		if _, err := p.PollOnce(ctx); err != nil {
			t.Fatal(err)
		}
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(dlqURL), VisibilityTimeout: 30})
		if err != nil {
			t.Fatal(err)
		}
		dead = out.Messages
	}
	if len(dead) != 1 || aws.ToString(dead[0].Body) != "poison" {
		t.Fatalf("DLQ has %d messages, want the poison one", len(dead))
	}
	if invocations != 2 {
		t.Errorf("function invoked %d times, want maxReceiveCount = 2", invocations)
	}
	if vis, inFlight := counts(t, c, url); vis+inFlight != 0 {
		t.Errorf("source queue still has %d visible and %d in flight", vis, inFlight)
	}
}

// TestRunStopsOnCancel: Run returns nil promptly when cancelled during a
// long poll, and a batch in the function when Run is cancelled is finished
// and deleted rather than abandoned.
func TestRunStopsOnCancel(t *testing.T) {
	cases := []struct {
		name         string
		cancelInside bool // cancel while the function runs, not while polling
	}{
		{name: "while polling"},
		{name: "while the function runs", cancelInside: true},
	}
	c := sqsClient(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			url, arn := createQueue(t, c, nil)
			send(t, c, url, "work")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			inside := make(chan struct{})
			finish := make(chan struct{})
			var fnCtxErr error
			fn := sqspoller.InvokerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
				close(inside)
				if tc.cancelInside {
					<-finish
				}
				fnCtxErr = ctx.Err()
				return nil, nil
			})
			// A 20 s long poll: returning promptly needs the cancel to
			// reach the receive call.
			p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn, WaitTime: 20 * time.Second}, fn, testLogger(t))
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()

			select {
			case <-inside:
			case <-time.After(procs.Scaled(30 * time.Second)):
				t.Fatal("the function was not invoked")
			}
			if !tc.cancelInside {
				// Wait until the delete has happened: Run is back in a poll.
				waitFor(t, 5*time.Second, "message deleted", func() bool { v, f := counts(t, c, url); return v+f == 0 })
			}
			cancel()
			close(finish)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run returned %v, want nil on cancel", err)
				}
			case <-time.After(promptly):
				t.Fatalf("Run did not return within %s of the cancel", promptly)
			}
			if fnCtxErr != nil {
				t.Errorf("the function's context was cancelled (%v); an in-flight batch should finish", fnCtxErr)
			}
			if v, f := counts(t, c, url); v+f != 0 {
				t.Errorf("queue has %d visible and %d in flight, want the processed message deleted", v, f)
			}
		})
	}
}

// TestRunRetriesFailedPolls: a missing queue is logged and retried (the
// local stack may still be creating it), and Run still stops on cancel.
func TestRunRetriesFailedPolls(t *testing.T) {
	c := sqsClient(t)
	logs := &syncBuffer{}
	url, arn := deletedQueue(t, c)
	p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn}, sqspoller.InvokerFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil }),
		slog.New(slog.NewTextHandler(logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, 5*time.Second, "two failed polls logged", func() bool {
		return strings.Count(logs.String(), "sqs poll failed") >= 2
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v, want nil on cancel", err)
		}
	case <-time.After(promptly):
		t.Fatalf("Run did not return within %s of the cancel", promptly)
	}
	if !strings.Contains(logs.String(), "QueueDoesNotExist") && !strings.Contains(logs.String(), "NonExistentQueue") {
		t.Errorf("log does not name the missing queue:\n%s", logs.String())
	}
}

// TestNewRejectsBadConfig: every problem is reported, together, by Run and
// PollOnce, before any call to SQS.
func TestNewRejectsBadConfig(t *testing.T) {
	fn := sqspoller.InvokerFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil })
	good := sqspoller.Config{QueueURL: "http://127.0.0.1:1/123456789012/q", QueueARN: "arn:aws:sqs:us-east-1:123456789012:q"}
	cases := []struct {
		name      string
		edit      func(*sqspoller.Config)
		wantInErr []string
	}{
		{name: "batch too large", edit: func(c *sqspoller.Config) { c.BatchSize = 11 }, wantInErr: []string{"BatchSize 11"}},
		{name: "negative batch", edit: func(c *sqspoller.Config) { c.BatchSize = -1 }, wantInErr: []string{"BatchSize -1"}},
		{name: "no concurrency", edit: func(c *sqspoller.Config) { c.Concurrency = -1 }, wantInErr: []string{"Concurrency -1"}},
		{name: "wait too long", edit: func(c *sqspoller.Config) { c.WaitTime = 21 * time.Second }, wantInErr: []string{"WaitTime 21s"}},
		{name: "wait in nanoseconds", edit: func(c *sqspoller.Config) { c.WaitTime = 1 }, wantInErr: []string{"WaitTime 1ns"}},
		{name: "no URL and bad ARN", edit: func(c *sqspoller.Config) { c.QueueURL, c.QueueARN = "", "q" },
			wantInErr: []string{"QueueURL is empty", `QueueARN "q"`}},
		{name: "ARN of another service", edit: func(c *sqspoller.Config) { c.QueueARN = "arn:aws:sns:us-east-1:123456789012:t" },
			wantInErr: []string{"not an SQS queue ARN"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			// A nil client: a call to SQS would panic, so none may happen.
			p := sqspoller.New(nil, cfg, fn, nil)
			_, pollErr := p.PollOnce(context.Background())
			runErr := p.Run(context.Background())
			for _, err := range []error{pollErr, runErr} {
				if err == nil {
					t.Fatalf("config %+v accepted", cfg)
				}
				for _, want := range tc.wantInErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not mention %q", err, want)
					}
				}
			}
		})
	}
}

// deletedQueue returns the URL of a queue that existed and is gone.
func deletedQueue(t *testing.T, c *sqs.Client) (url, arn string) {
	t.Helper()
	url, arn = createQueue(t, c, nil)
	if _, err := c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
		t.Fatal(err)
	}
	return url, arn
}

// promptly bounds how long Run may take to return after a cancel. It stays
// under the tests' 20 s long poll, or the bound would say nothing; on a
// busy machine a cancel still takes milliseconds, not seconds.
const promptly = 10 * time.Second

// waitFor polls cond every 20 ms until it holds or the time (stretched by
// procs.Slowdown) is up.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	within = procs.Scaled(within)
	for deadline := time.Now().Add(within); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestRunInvokesBatchesSideBySide: with Concurrency 3, three one-message
// batches are invoked at the same time, as Lambda's concurrent batches are:
// a message that arrives while a batch runs is not held back behind it.
// With one loop the function would never see a second invocation while the
// first waits, and the test would time out.
func TestRunInvokesBatchesSideBySide(t *testing.T) {
	c := sqsClient(t)
	url, arn := createQueue(t, c, nil)
	send(t, c, url, "a", "b", "c")
	var mu sync.Mutex
	inFlight, most := 0, 0
	release := make(chan struct{})
	fn := sqspoller.InvokerFunc(func(context.Context, []byte) ([]byte, error) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil, nil
	})
	p := sqspoller.New(c, sqspoller.Config{QueueURL: url, QueueARN: arn, BatchSize: 1, Concurrency: 3}, fn, testLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, 30*time.Second, "three invocations under way at once", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return most == 3
	})
	close(release)
	waitFor(t, 10*time.Second, "every message deleted", func() bool { v, f := counts(t, c, url); return v+f == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run returned %v, want nil on cancel", err)
	}
}
