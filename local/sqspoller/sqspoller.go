// Package sqspoller does for the local stack what Lambda's SQS event-source
// mapping does in AWS (and what `sam local` cannot do without Docker): it
// long-polls a queue, hands each batch to a function as an events.SQSEvent,
// and deletes what the function processed. Whatever it does not delete comes
// back after the queue's visibility timeout, so redrive policies and
// dead-letter queues behave as they do in AWS.
package sqspoller

import (
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
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the part of the SQS client the poller uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Invoker runs the function synchronously with a JSON event and returns its
// JSON response; an error means the invocation failed. *rie.Function
// satisfies it.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokerFunc lets a plain function, such as lambda.NewHandler(h).Invoke for
// an in-process handler or a test fake, be an Invoker.
type InvokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// Config mirrors the event-source mapping settings that matter locally.
type Config struct {
	QueueURL string // where to receive from
	QueueARN string // the records' eventSourceARN; its region is the default awsRegion
	// BatchSize is the most messages per invocation, 1 to 10; zero means 10,
	// Lambda's default for SQS. (Larger batches need a batching window,
	// which the poller does not model.)
	BatchSize int32
	// WaitTime is the long-poll wait of each receive, in whole seconds from
	// 1 s to 20 s; zero means 1 s, so that a stop is noticed quickly.
	WaitTime time.Duration
	// ReportBatchItemFailures is FunctionResponseTypes=[ReportBatchItemFailures]:
	// the function's events.SQSEventResponse decides which messages stay.
	ReportBatchItemFailures bool
	Region                  string // the records' awsRegion; empty means the region of QueueARN
	// Concurrency is how many receive-and-invoke loops Run keeps going side
	// by side, as Lambda processes five batches of a standard queue at a
	// time, or at most the mapping's ScalingConfig.MaximumConcurrency; zero
	// means 1. The Invoker must take that many invocations at once (a
	// *rie.Pool does; a *rie.Function queues them).
	Concurrency int
}

// Stats counts what one poll did.
type Stats struct {
	Received int // messages in the batch
	Deleted  int // messages deleted as processed
	Failed   int // messages left for redelivery because the function failed them
}

// Poller moves messages from one queue to one function.
type Poller struct {
	client SQSAPI
	cfg    Config
	fn     Invoker
	log    *slog.Logger
	err    error // the configuration problem, reported by PollOnce and Run
}

// New returns a poller. A bad configuration is reported, all problems
// together, by the first PollOnce or Run. A nil logger discards logs.
func New(client SQSAPI, cfg Config, fn Invoker, logger *slog.Logger) *Poller {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 10
	}
	if cfg.WaitTime == 0 {
		cfg.WaitTime = time.Second
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 1
	}
	var problems []error
	if client == nil {
		problems = append(problems, errors.New("no SQS client"))
	}
	if fn == nil {
		problems = append(problems, errors.New("no function to invoke"))
	}
	if cfg.QueueURL == "" {
		problems = append(problems, errors.New("QueueURL is empty"))
	}
	if a, err := arn.Parse(cfg.QueueARN); err != nil || a.Service != "sqs" || a.Region == "" || a.Resource == "" {
		problems = append(problems, fmt.Errorf("QueueARN %q is not an SQS queue ARN", cfg.QueueARN))
	} else if cfg.Region == "" {
		cfg.Region = a.Region
	}
	if cfg.BatchSize < 1 || cfg.BatchSize > 10 {
		problems = append(problems, fmt.Errorf("BatchSize %d is outside 1..10", cfg.BatchSize))
	}
	if cfg.Concurrency < 1 || cfg.Concurrency > 1000 {
		problems = append(problems, fmt.Errorf("Concurrency %d is outside 1..1000", cfg.Concurrency))
	}
	if cfg.WaitTime < time.Second || cfg.WaitTime > 20*time.Second || cfg.WaitTime%time.Second != 0 {
		problems = append(problems, fmt.Errorf("WaitTime %s is not a whole number of seconds from 1s to 20s", cfg.WaitTime))
	}
	p := &Poller{client: client, cfg: cfg, fn: fn, log: logger.With("queueUrl", cfg.QueueURL)}
	if len(problems) > 0 {
		p.err = fmt.Errorf("configure SQS poller for %q: %w", cfg.QueueURL, errors.Join(problems...))
	}
	return p
}

// Backoff bounds for Run after a failed receive or delete (the queue may not
// exist yet while the local stack starts).
const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// Run polls until ctx is done, then returns nil. A batch already received
// when ctx ends is still invoked and settled, as a disabled mapping lets
// in-flight invocations finish; otherwise the work would be done twice.
// SQS failures are logged and retried with backoff; only a bad
// configuration makes Run return an error. Config.Concurrency loops poll
// side by side, so a message that arrives while one batch is being
// invoked is received and invoked at once, not after that batch.
func (p *Poller) Run(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	p.log.InfoContext(ctx, "sqs poller started", "queueArn", p.cfg.QueueARN, "batchSize", p.cfg.BatchSize, "concurrency", p.cfg.Concurrency)
	var wg sync.WaitGroup
	for range p.cfg.Concurrency {
		wg.Go(func() { p.loop(ctx) })
	}
	wg.Wait()
	p.log.InfoContext(ctx, "sqs poller stopped")
	return nil
}

// loop is one poller: receive, invoke, settle, until ctx is done.
func (p *Poller) loop(ctx context.Context) {
	backoff := minBackoff
	for ctx.Err() == nil {
		_, err := p.PollOnce(ctx)
		if ctx.Err() != nil {
			break
		}
		if err == nil {
			backoff = minBackoff
			continue
		}
		p.log.ErrorContext(ctx, "sqs poll failed", "error", err, "retryIn", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// PollOnce receives one batch (waiting up to WaitTime for it), invokes the
// function with it unless it is empty, and deletes what succeeded. A
// function failure is not an error here, as it is not for the mapping: it
// shows in Stats.Failed and the messages come back after their visibility
// timeout. The error reports a receive or delete that failed.
func (p *Poller) PollOnce(ctx context.Context) (Stats, error) {
	if p.err != nil {
		return Stats{}, p.err
	}
	out, err := p.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(p.cfg.QueueURL),
		MaxNumberOfMessages:         p.cfg.BatchSize,
		WaitTimeSeconds:             int32(p.cfg.WaitTime / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return Stats{}, fmt.Errorf("receive from %s: %w", p.cfg.QueueURL, err)
	}
	stats := Stats{Received: len(out.Messages)}
	if len(out.Messages) == 0 {
		return stats, nil
	}
	// From here on the batch is ours: finish it even if the caller stops,
	// so that what the function did is not undone by redelivery.
	ctx = context.WithoutCancel(ctx)
	event := p.event(out.Messages)
	payload, err := json.Marshal(event)
	if err != nil {
		// Cannot happen for strings and byte slices; the messages return.
		p.log.ErrorContext(ctx, "encode sqs event", "error", err)
		stats.Failed = len(out.Messages)
		return stats, nil
	}

	resp, err := p.invoke(ctx, payload)
	if err != nil {
		p.log.WarnContext(ctx, "function failed; the batch returns after its visibility timeout",
			"error", err, "messageIds", messageIDs(event.Records))
		stats.Failed = len(out.Messages)
		return stats, nil
	}

	keep := map[string]bool{} // message ids to leave in the queue
	if p.cfg.ReportBatchItemFailures {
		failed, err := batchItemFailures(resp, event.Records)
		if err != nil {
			p.log.WarnContext(ctx, "batch item failures rejected; the whole batch returns",
				"error", err, "response", truncate(resp, 512))
			stats.Failed = len(out.Messages)
			return stats, nil
		}
		keep = failed
		if len(keep) > 0 {
			p.log.InfoContext(ctx, "function reported failed items", "messageIds", sortedKeys(keep))
		}
	}

	var del []types.DeleteMessageBatchRequestEntry
	for i, r := range event.Records {
		if keep[r.MessageId] {
			continue
		}
		// Entry ids only need to be unique in the request.
		del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r.ReceiptHandle)})
	}
	stats.Failed = len(keep)
	if len(del) == 0 {
		return stats, nil
	}
	dout, err := p.client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(p.cfg.QueueURL), Entries: del})
	if err != nil {
		return stats, fmt.Errorf("delete %d processed messages from %s: %w", len(del), p.cfg.QueueURL, err)
	}
	stats.Deleted = len(dout.Successful)
	var problems []error
	for _, f := range dout.Failed {
		id := "entry " + aws.ToString(f.Id)
		if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= 0 && i < len(event.Records) {
			id = event.Records[i].MessageId
		}
		problems = append(problems, fmt.Errorf("message %s: %s: %s", id, aws.ToString(f.Code), aws.ToString(f.Message)))
	}
	if len(problems) > 0 {
		return stats, fmt.Errorf("delete processed messages from %s: %w", p.cfg.QueueURL, errors.Join(problems...))
	}
	p.log.DebugContext(ctx, "sqs batch settled", "received", stats.Received, "deleted", stats.Deleted, "failed", stats.Failed)
	return stats, nil
}

// invoke calls the function and turns a panic in an in-process Invoker into
// a failed invocation: the poller must outlive the code it runs.
func (p *Poller) invoke(ctx context.Context, payload []byte) (resp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("function panicked: %v", r)
		}
	}()
	return p.fn.Invoke(ctx, payload)
}

// event builds the event the way Lambda does: every record carries the
// system attributes SQS returned, the message attributes with empty list
// fields, and the source ARN and region.
func (p *Poller) event(msgs []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		body := aws.ToString(m.Body)
		md5OfBody := aws.ToString(m.MD5OfBody)
		if md5OfBody == "" {
			sum := md5.Sum([]byte(body))
			md5OfBody = hex.EncodeToString(sum[:])
		}
		attrs := make(map[string]string, len(m.Attributes))
		for k, v := range m.Attributes {
			attrs[k] = v
		}
		msgAttrs := make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
		for k, v := range m.MessageAttributes {
			// Lambda sends the list fields as [] rather than null.
			a := events.SQSMessageAttribute{
				StringValue:      v.StringValue,
				BinaryValue:      v.BinaryValue,
				StringListValues: v.StringListValues,
				BinaryListValues: v.BinaryListValues,
				DataType:         aws.ToString(v.DataType),
			}
			if a.StringListValues == nil {
				a.StringListValues = []string{}
			}
			if a.BinaryListValues == nil {
				a.BinaryListValues = [][]byte{}
			}
			msgAttrs[k] = a
		}
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   body,
			Md5OfBody:              md5OfBody,
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             attrs,
			MessageAttributes:      msgAttrs,
			EventSourceARN:         p.cfg.QueueARN,
			EventSource:            "aws:sqs",
			AWSRegion:              p.cfg.Region,
		})
	}
	return ev
}

// batchItemFailures reads a partial batch response and returns the ids of
// the messages to keep. It follows Lambda's documented rules: an empty or
// null response, or one without batchItemFailures, is complete success; a
// response that is not JSON, or an item whose itemIdentifier is missing,
// empty or not a message of the batch, fails the whole batch (the error).
func batchItemFailures(resp []byte, records []events.SQSMessage) (map[string]bool, error) {
	keep := map[string]bool{}
	trimmed := strings.TrimSpace(string(resp))
	if trimmed == "" {
		return keep, nil
	}
	if !json.Valid([]byte(trimmed)) {
		return nil, errors.New("response is not JSON")
	}
	var top map[string]json.RawMessage
	if json.Unmarshal([]byte(trimmed), &top) != nil {
		// null, a string, a list: not a partial batch response, so the
		// batch succeeded, as for a function that returns nothing.
		return keep, nil
	}
	raw, ok := top["batchItemFailures"]
	if !ok || string(raw) == "null" {
		return keep, nil
	}
	var items []struct {
		ItemIdentifier *string `json:"itemIdentifier"`
	}
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("batchItemFailures is not a list of {itemIdentifier}: %w", err)
	}
	inBatch := make(map[string]bool, len(records))
	for _, r := range records {
		inBatch[r.MessageId] = true
	}
	for i, it := range items {
		switch {
		case it.ItemIdentifier == nil:
			return nil, fmt.Errorf("batchItemFailures[%d] has no itemIdentifier", i)
		case *it.ItemIdentifier == "":
			return nil, fmt.Errorf("batchItemFailures[%d] has an empty itemIdentifier", i)
		case !inBatch[*it.ItemIdentifier]:
			return nil, fmt.Errorf("batchItemFailures[%d] names %q, which is not in the batch", i, *it.ItemIdentifier)
		}
		keep[*it.ItemIdentifier] = true
	}
	return keep, nil
}

func messageIDs(records []events.SQSMessage) []string {
	ids := make([]string, len(records))
	for i, r := range records {
		ids[i] = r.MessageId
	}
	return ids
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}
