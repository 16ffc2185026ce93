package main

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/sqspoller"
)

// dupPrefix marks the receipt handle of a repeated delivery.
const dupPrefix = "chaos-dup:"

// duplicatingSQS stands between a queue and its poller and delivers some
// messages twice with the same MessageId, as SQS's at-least-once delivery
// does: half of the copies in the same batch (two copies of one message
// handled at once), half in a later batch (out of order). Each copy has a
// receipt handle of its own; deleting a copy deletes nothing in the queue,
// since the original delivery settles the message.
//
// It also keeps the accounts of the queue: every message id received and
// every one deleted.
type duplicatingSQS struct {
	next  sqspoller.SQSAPI
	queue string
	rate  float64

	mu       sync.Mutex
	rng      *rand.Rand
	held     []types.Message // copies waiting for a later batch
	n        int
	received map[string]int    // message id -> deliveries, copies included
	handles  map[string]string // receipt handle -> message id
	bodies   map[string]string // message id -> body
	deleted  map[string]bool   // message id -> deleted by the poller (processed)
	copies   int
}

func newDuplicatingSQS(next sqspoller.SQSAPI, queue string, rate float64, seed int64) *duplicatingSQS {
	return &duplicatingSQS{next: next, queue: queue, rate: rate, rng: rand.New(rand.NewSource(seed)),
		received: map[string]int{}, handles: map[string]string{}, bodies: map[string]string{}, deleted: map[string]bool{}}
}

func (d *duplicatingSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := d.next.ReceiveMessage(ctx, in, optFns...)
	if err != nil {
		return out, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var msgs []types.Message
	for _, m := range out.Messages {
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
	for _, m := range msgs {
		d.received[aws.ToString(m.MessageId)]++
		d.handles[aws.ToString(m.ReceiptHandle)] = aws.ToString(m.MessageId)
		d.bodies[aws.ToString(m.MessageId)] = aws.ToString(m.Body)
	}
	out.Messages = msgs
	return out, nil
}

func (d *duplicatingSQS) copyOf(m types.Message) types.Message {
	d.n++
	d.copies++
	cp := m
	cp.ReceiptHandle = aws.String(fmt.Sprintf("%s%d:%s", dupPrefix, d.n, aws.ToString(m.ReceiptHandle)))
	return cp
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
			d.deleted[d.handles[h]] = true
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
			h := byEntry[aws.ToString(ok.Id)]
			d.deleted[d.handles[h]] = true
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

// queueAccounts is what one queue's poller saw.
type queueAccounts struct {
	received map[string]int    // message id -> deliveries, copies included
	deleted  map[string]bool   // message id -> deleted as processed
	bodies   map[string]string // message id -> body
	copies   int               // repeated deliveries injected
}

func (d *duplicatingSQS) accounts() queueAccounts {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := queueAccounts{received: map[string]int{}, deleted: map[string]bool{}, bodies: map[string]string{}, copies: d.copies}
	for k, v := range d.bodies {
		a.bodies[k] = v
	}
	for k, v := range d.received {
		a.received[k] = v
	}
	for k, v := range d.deleted {
		a.deleted[k] = v
	}
	return a
}
