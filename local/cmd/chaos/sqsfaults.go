package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/sqspoller"
)

// dupPrefix marks the receipt handle of a repeated delivery.
const dupPrefix = "chaos-dup:"

// What became of one delivery of a message.
const (
	deliveryPending   = ""                       // its batch is with the function
	deliveryDone      = "processed"              // the function succeeded for it
	deliveryFailed    = "failed by the function" // named in the batch item failures
	deliveryInvokeErr = "its invocation failed"  // the whole batch failed (a killed process)
	deliveryLost      = "lost by the -lose-messages fault"
)

// delivery is one delivery of a message to the poller.
type delivery struct {
	id        string
	batch     int  // the queue's receive that returned it, from 1
	copy      bool // a repeated delivery the harness injected
	outcome   string
	settledAt time.Time
}

// duplicatingSQS stands between a queue and its poller and delivers some
// messages twice with the same MessageId, as SQS's at-least-once delivery
// does: half of the copies in the same batch (two copies of one message
// handled at once), half in a later batch (out of order). Each copy has a
// receipt handle of its own; deleting a copy deletes the message, as any
// of a message's receipt handles does in SQS.
//
// It also keeps the accounts of the queue, delivery by delivery: which
// batch, whether a copy, and what the function and the poller made of it
// (the invoker side is reported by recordingInvoker).
type duplicatingSQS struct {
	next  sqspoller.SQSAPI
	queue string
	rate  float64
	// lose is how many Stopping messages to lose: received from the queue
	// and deleted there, never handed to the function. It is the fault the
	// SQS invariant must catch (off unless -lose-messages is set).
	lose int

	mu       sync.Mutex
	rng      *rand.Rand
	held     []types.Message // copies waiting for a later batch
	n        int
	batches  int
	received map[string]int       // message id -> deliveries, copies included
	handles  map[string]*delivery // receipt handle -> the delivery it came with
	byID     map[string][]*delivery
	latest   map[string]string // message id -> its latest receipt handle from the queue (never a copy's)
	bodies   map[string]string // message id -> body
	deleted  map[string]bool   // message id -> deleted by the poller (processed)
	lost     map[string]bool
	forward  map[string]int // message id -> visibility timeouts fast-forwarded at the end
	copies   int
}

func newDuplicatingSQS(next sqspoller.SQSAPI, queue string, rate float64, seed int64) *duplicatingSQS {
	return &duplicatingSQS{next: next, queue: queue, rate: rate, rng: rand.New(rand.NewSource(seed)),
		received: map[string]int{}, handles: map[string]*delivery{}, byID: map[string][]*delivery{}, latest: map[string]string{},
		bodies: map[string]string{}, deleted: map[string]bool{}, lost: map[string]bool{}, forward: map[string]int{}}
}

func (d *duplicatingSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := d.next.ReceiveMessage(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var msgs, lose []types.Message
	for _, m := range out.Messages {
		id := aws.ToString(m.MessageId)
		d.latest[id] = aws.ToString(m.ReceiptHandle)
		if d.lose > 0 && !d.lost[id] && isStopping(aws.ToString(m.Body)) {
			d.lose--
			d.lost[id] = true
			lose = append(lose, m)
			continue
		}
		msgs = append(msgs, m)
		if d.rate > 0 && d.rng.Float64() < d.rate {
			cp := d.copyOf(m)
			if d.rng.Intn(2) == 0 && int32(len(out.Messages)) < in.MaxNumberOfMessages {
				msgs = append(msgs, cp) // handled together with the original
			} else {
				d.held = append(d.held, cp) // after a later batch's messages
			}
		}
	}
	// Copies held back from earlier batches come after this batch's own.
	room := int(in.MaxNumberOfMessages) - len(msgs)
	if room > 0 && len(d.held) > 0 && (len(out.Messages) > 0 || d.rng.Intn(3) == 0) {
		k := min(room, len(d.held))
		msgs = append(msgs, d.held[:k]...)
		d.held = d.held[k:]
	}
	if len(msgs)+len(lose) > 0 {
		d.batches++
	}
	for _, m := range lose {
		d.record(m, deliveryLost)
		// Gone from the queue: neither the function nor a redelivery will
		// ever see it.
		d.next.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: in.QueueUrl,
			Entries: []types.DeleteMessageBatchRequestEntry{{Id: aws.String("lost"), ReceiptHandle: m.ReceiptHandle}}})
	}
	for _, m := range msgs {
		d.record(m, deliveryPending)
	}
	out.Messages = msgs
	return out, nil
}

// record notes a delivery; the caller holds d.mu.
func (d *duplicatingSQS) record(m types.Message, outcome string) {
	id, h := aws.ToString(m.MessageId), aws.ToString(m.ReceiptHandle)
	dl := &delivery{id: id, batch: d.batches, copy: strings.HasPrefix(h, dupPrefix), outcome: outcome}
	if outcome != deliveryPending {
		dl.settledAt = time.Now()
	}
	d.received[id]++
	d.handles[h] = dl
	d.byID[id] = append(d.byID[id], dl)
	d.bodies[id] = aws.ToString(m.Body)
}

func (d *duplicatingSQS) copyOf(m types.Message) types.Message {
	d.n++
	d.copies++
	cp := m
	cp.ReceiptHandle = aws.String(fmt.Sprintf("%s%d:%s", dupPrefix, d.n, aws.ToString(m.ReceiptHandle)))
	return cp
}

// settle records what the function made of a batch: every record it did
// not name as a failure succeeded, unless the invocation itself failed.
func (d *duplicatingSQS) settle(records []events.SQSMessage, failed map[string]bool, invokeErr error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	for _, r := range records {
		dl := d.handles[r.ReceiptHandle]
		if dl == nil || dl.outcome != deliveryPending {
			continue
		}
		switch {
		case invokeErr != nil:
			dl.outcome = deliveryInvokeErr
		case failed[r.MessageId]:
			dl.outcome = deliveryFailed
		default:
			dl.outcome = deliveryDone
		}
		dl.settledAt = now
	}
}

// DeleteMessageBatch deletes what the poller settled. Deleting a copy
// deletes the message, as deleting with any receipt handle of a message
// does in SQS: the copy's entry goes to the queue with the original's
// handle, and succeeds even if the original was deleted already.
func (d *duplicatingSQS) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	var real []types.DeleteMessageBatchRequestEntry
	copies := map[string]bool{} // entry id -> a copy's entry
	seen := map[string]bool{}   // original handles in this request
	var copyOK []types.DeleteMessageBatchResultEntry
	for _, e := range in.Entries {
		h := aws.ToString(e.ReceiptHandle)
		if rest, ok := strings.CutPrefix(h, dupPrefix); ok {
			_, orig, _ := strings.Cut(rest, ":")
			d.mu.Lock()
			if dl := d.handles[h]; dl != nil {
				d.deleted[dl.id] = true
			}
			d.mu.Unlock()
			copyOK = append(copyOK, types.DeleteMessageBatchResultEntry{Id: e.Id})
			if seen[orig] {
				continue
			}
			seen[orig] = true
			copies[aws.ToString(e.Id)] = true
			real = append(real, types.DeleteMessageBatchRequestEntry{Id: e.Id, ReceiptHandle: aws.String(orig)})
			continue
		}
		if seen[h] {
			copyOK = append(copyOK, types.DeleteMessageBatchResultEntry{Id: e.Id})
			continue
		}
		seen[h] = true
		real = append(real, e)
	}
	out := &sqs.DeleteMessageBatchOutput{}
	if len(real) > 0 {
		cp := *in
		cp.Entries = real
		o, err := d.next.DeleteMessageBatch(ctx, &cp, optFns...)
		if err != nil {
			return o, err
		}
		d.mu.Lock()
		byEntry := map[string]string{}
		for _, e := range real {
			byEntry[aws.ToString(e.Id)] = aws.ToString(e.ReceiptHandle)
		}
		for _, ok := range o.Successful {
			if copies[aws.ToString(ok.Id)] {
				continue // reported below, with the other copies
			}
			if dl := d.handles[byEntry[aws.ToString(ok.Id)]]; dl != nil {
				d.deleted[dl.id] = true
			}
			out.Successful = append(out.Successful, ok)
		}
		for _, f := range o.Failed {
			if !copies[aws.ToString(f.Id)] {
				out.Failed = append(out.Failed, f)
			}
		}
		d.mu.Unlock()
	}
	out.Successful = append(out.Successful, copyOK...)
	return out, nil
}

// visibilityChanger is the SQS call that fast-forwards a visibility
// timeout; *sqs.Client satisfies it.
type visibilityChanger interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// fastForward makes every message that is neither deleted nor lost, whose
// deliveries have all been settled for at least quiet, visible again at
// once, as the end of its visibility timeout would: a message the function
// failed, or whose invocation was killed, returns only after the queue's
// timeout (12 minutes for the callback queue), which outlasts the run. Its
// redelivery is then handled within the run and counted like any other.
// It returns how many messages it made visible.
func (d *duplicatingSQS) fastForward(ctx context.Context, sqsc visibilityChanger, queueURL string, quiet time.Duration) int {
	d.mu.Lock()
	var due []string
	for id, ds := range d.byID {
		if d.deleted[id] || d.lost[id] || d.latest[id] == "" {
			continue
		}
		settled := true
		for _, dl := range ds {
			settled = settled && dl.outcome != deliveryPending && time.Since(dl.settledAt) >= quiet
		}
		if settled {
			due = append(due, id)
		}
	}
	handles := map[string]string{}
	for _, id := range due {
		handles[id] = d.latest[id]
	}
	d.mu.Unlock()
	n := 0
	for _, id := range due {
		// A message deleted or received again meanwhile refuses the old
		// handle; that is as good.
		if _, err := sqsc.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(queueURL),
			ReceiptHandle: aws.String(handles[id]), VisibilityTimeout: 0}); err == nil {
			n++
			d.mu.Lock()
			d.forward[id]++
			d.mu.Unlock()
		}
	}
	return n
}

// recordingInvoker reports to a queue's accounts what the function made of
// each batch.
type recordingInvoker struct {
	next     sqspoller.Invoker
	accounts func() *duplicatingSQS
}

func (r *recordingInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	out, err := r.next.Invoke(ctx, payload)
	if d := r.accounts(); d != nil {
		var ev events.SQSEvent
		json.Unmarshal(payload, &ev)
		failed := map[string]bool{}
		var resp events.SQSEventResponse
		if err == nil && json.Unmarshal(out, &resp) == nil {
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
		}
		d.settle(ev.Records, failed, err)
	}
	return out, err
}

func isStopping(body string) bool {
	var m struct {
		Status string `json:"status"`
	}
	return json.Unmarshal([]byte(body), &m) == nil && strings.EqualFold(m.Status, "stopping")
}

// queueAccounts is what one queue's poller saw.
type queueAccounts struct {
	received map[string]int    // message id -> deliveries, copies included
	deleted  map[string]bool   // message id -> deleted as processed
	bodies   map[string]string // message id -> body
	lost     map[string]bool   // message id -> lost by the fault
	forward  map[string]int    // message id -> visibility timeouts fast-forwarded
	history  map[string][]delivery
	copies   int // repeated deliveries injected
}

func (d *duplicatingSQS) accounts() queueAccounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := queueAccounts{received: map[string]int{}, deleted: map[string]bool{}, bodies: map[string]string{}, lost: map[string]bool{},
		forward: map[string]int{}, history: map[string][]delivery{}, copies: d.copies}
	for k, v := range d.bodies {
		a.bodies[k] = v
	}
	for k, v := range d.received {
		a.received[k] = v
	}
	for k, v := range d.deleted {
		a.deleted[k] = v
	}
	for k, v := range d.lost {
		a.lost[k] = v
	}
	for k, v := range d.forward {
		a.forward[k] = v
	}
	for k, ds := range d.byID {
		for _, dl := range ds {
			a.history[k] = append(a.history[k], *dl)
		}
	}
	return a
}

// story tells a message's deliveries: "batch 7: processed; batch 7 (copy):
// failed by the function; fast-forwarded 1".
func (a queueAccounts) story(id string) string {
	ds := a.history[id]
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].batch < ds[j].batch })
	var parts []string
	for _, dl := range ds {
		p := fmt.Sprintf("batch %d", dl.batch)
		if dl.copy {
			p += " (copy)"
		}
		o := dl.outcome
		if o == deliveryPending {
			o = "still with the function"
		}
		parts = append(parts, p+": "+o)
	}
	if n := a.forward[id]; n > 0 {
		parts = append(parts, fmt.Sprintf("visibility fast-forwarded %d×", n))
	}
	return strings.Join(parts, "; ")
}

// sameBatchCopy reports whether a message and its own copy were in one
// batch that the function failed for it: the copy lost the race for the
// token's claim and asked to be retried, and the message id names both.
func (a queueAccounts) sameBatchCopy(id string) bool {
	byBatch := map[int]int{}
	for _, dl := range a.history[id] {
		if dl.outcome == deliveryFailed {
			byBatch[dl.batch]++
		}
	}
	for _, n := range byBatch {
		if n > 1 {
			return true
		}
	}
	return false
}
