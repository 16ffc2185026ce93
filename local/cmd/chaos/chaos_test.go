package main

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/stopshare"
)

func TestPlanRunsEveryScriptAndEveryResourceKind(t *testing.T) {
	all := scripts(faultSwitches{lambdaSteps: true, lateRegister: true})
	xs := plan(len(all)+8, all, rand.New(rand.NewSource(7)))
	seen := map[string]bool{}
	kinds := map[string]bool{}
	for i, x := range xs {
		if x.i != i {
			t.Fatalf("execution %d has index %d", i, x.i)
		}
		seen[x.script.name] = true
		if len(x.kinds) != x.script.callbacks {
			t.Fatalf("%s: %d kinds for %d callbacks", x.script.name, len(x.kinds), x.script.callbacks)
		}
		for _, k := range x.kinds {
			kinds[k] = true
		}
	}
	for _, s := range all {
		if !seen[s.name] {
			t.Errorf("script %s never planned", s.name)
		}
	}
	for _, k := range resourceKinds {
		if !kinds[k] {
			t.Errorf("resource kind %s never handed out", k)
		}
	}
	again := plan(len(all)+8, all, rand.New(rand.NewSource(7)))
	for i := range xs {
		if xs[i].script.name != again[i].script.name {
			t.Fatalf("the same seed planned %s then %s at %d", xs[i].script.name, again[i].script.name, i)
		}
	}
}

// queueFake hands out numbered messages and records what is deleted.
type queueFake struct {
	next    int
	deleted []string
}

func (q *queueFake) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	var out sqs.ReceiveMessageOutput
	for range 2 {
		q.next++
		out.Messages = append(out.Messages, types.Message{MessageId: aws.String(fmt.Sprintf("m%d", q.next)), ReceiptHandle: aws.String(fmt.Sprintf("h%d", q.next)), Body: aws.String("{}")})
	}
	return &out, nil
}

func (q *queueFake) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	var out sqs.DeleteMessageBatchOutput
	for _, e := range in.Entries {
		q.deleted = append(q.deleted, aws.ToString(e.ReceiptHandle))
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return &out, nil
}

func TestDuplicatingSQSRedeliversWithTheSameMessageID(t *testing.T) {
	q := &queueFake{}
	d := newDuplicatingSQS(q, "CallbackQueue", 1, 3)
	deliveries := map[string]int{}
	for range 20 {
		out, err := d.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			deliveries[aws.ToString(m.MessageId)]++
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		res, err := d.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{Entries: del})
		if err != nil || len(res.Successful) != len(del) {
			t.Fatalf("delete: %v, %d of %d", err, len(res.Successful), len(del))
		}
	}
	twice := 0
	for id, n := range deliveries {
		if n > 2 {
			t.Fatalf("%s delivered %d times", id, n)
		}
		if n == 2 {
			twice++
		}
	}
	if twice < 20 {
		t.Fatalf("only %d of %d messages were delivered twice at rate 1", twice, len(deliveries))
	}
	for _, h := range q.deleted {
		if strings.HasPrefix(h, dupPrefix) {
			t.Fatalf("a copy's receipt handle %s reached the queue", h)
		}
	}
	a := d.accounts()
	if len(a.deleted) != q.next || a.copies < 20 {
		t.Fatalf("accounts: %d deleted of %d, %d copies", len(a.deleted), q.next, a.copies)
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Second)
	}
	for p, want := range map[int]string{50: "50s", 95: "1m35s", 99: "1m39s", 100: "1m40s"} {
		if got := pct(ds, p); got != want {
			t.Errorf("p%d = %s, want %s", p, got, want)
		}
	}
	if got := pct(nil, 50); got != "-" {
		t.Errorf("p50 of nothing = %s", got)
	}
}

// stoppingQueue hands out one batch of Stopping messages, then nothing,
// and records deletes and visibility changes.
type stoppingQueue struct {
	queueFake
	given   bool
	changed []string // receipt handles made visible again
}

func (q *stoppingQueue) ReceiveMessage(_ context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	var out sqs.ReceiveMessageOutput
	if q.given {
		return &out, nil
	}
	q.given = true
	for i := 1; i <= 3; i++ {
		out.Messages = append(out.Messages, types.Message{MessageId: aws.String(fmt.Sprintf("m%d", i)), ReceiptHandle: aws.String(fmt.Sprintf("h%d", i)),
			Body: aws.String(`{"status":"Stopping","token":"t` + fmt.Sprint(i) + `"}`)})
	}
	return &out, nil
}

func (q *stoppingQueue) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	q.changed = append(q.changed, aws.ToString(in.ReceiptHandle))
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

// The -lose-messages fault takes a Stopping message off the queue without
// handing it to the function, and the accounts say so: the SQS invariant
// has a real loss to catch.
func TestLoseMessagesDeletesUnprocessedAndAccountsForIt(t *testing.T) {
	q := &stoppingQueue{}
	d := newDuplicatingSQS(q, "CallbackQueue", 0, 1)
	d.lose = 1
	out, err := d.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 2 || aws.ToString(out.Messages[0].MessageId) != "m2" {
		t.Fatalf("the poller got %d messages, first %s; want m2 and m3", len(out.Messages), aws.ToString(out.Messages[0].MessageId))
	}
	if len(q.deleted) != 1 || q.deleted[0] != "h1" {
		t.Fatalf("deleted at the queue: %v, want [h1]", q.deleted)
	}
	a := d.accounts()
	if !a.lost["m1"] || a.deleted["m1"] || a.received["m1"] != 1 {
		t.Fatalf("accounts of m1: lost %v, deleted %v, received %d", a.lost["m1"], a.deleted["m1"], a.received["m1"])
	}
}

// A message the function failed together with its own repeat is made
// visible again at the end with the handle the queue gave it (never the
// repeat's), once its batch is settled; a processed and deleted one is
// left alone.
func TestFastForwardRedeliversFailedMessagesByTheirQueueHandle(t *testing.T) {
	q := &stoppingQueue{}
	d := newDuplicatingSQS(q, "CallbackQueue", 0, 1)
	out, err := d.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	// m1 comes twice in the batch, as the dup-callbacks fault does it.
	d.mu.Lock()
	cp := d.copyOf(out.Messages[0])
	d.record(cp, deliveryPending)
	d.mu.Unlock()
	batch := append(out.Messages, cp)
	if n := d.fastForward(context.Background(), q, "q", 0); n != 0 {
		t.Fatalf("fast-forwarded %d messages of a batch still with the function", n)
	}
	var records []events.SQSMessage
	for _, m := range batch {
		records = append(records, events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle)})
	}
	d.settle(records, map[string]bool{"m1": true}, nil)
	if _, err := d.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("0"), ReceiptHandle: aws.String("h2")}, {Id: aws.String("1"), ReceiptHandle: aws.String("h3")}}}); err != nil {
		t.Fatal(err)
	}
	if n := d.fastForward(context.Background(), q, "q", 0); n != 1 || len(q.changed) != 1 || q.changed[0] != "h1" {
		t.Fatalf("fast-forwarded %d, handles %v; want m1 by h1", n, q.changed)
	}
	a := d.accounts()
	if !a.sameBatchCopy("m1") || a.sameBatchCopy("m2") {
		t.Fatalf("sameBatchCopy: m1 %v, m2 %v", a.sameBatchCopy("m1"), a.sameBatchCopy("m2"))
	}
	if got := a.story("m1"); !strings.Contains(got, "batch 1 (copy): failed by the function") || !strings.Contains(got, "fast-forwarded 1×") {
		t.Fatalf("story of m1: %s", got)
	}
}

// TestPrintShare prints the percentiles over the measured steps, counts
// the rest with their most common reason, and says that under chaos
// stopcoord's share includes its retries.
func TestPrintShare(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	r := &report{}
	for i := 1; i <= 4; i++ {
		r.share = append(r.share, stopshare.Path{Step: "s", Total: ms(1000 * i), SageMaker: ms(100 * i), SQS: ms(10 * i), Cleaners: ms(200 * i), Overhead: ms(690 * i)})
	}
	r.share = append(r.share,
		stopshare.Path{Step: "a", Missing: stopshare.MissingDelivered},
		stopshare.Path{Step: "b", Missing: stopshare.MissingSent},
		stopshare.Path{Step: "c", Missing: stopshare.MissingSent})
	var out strings.Builder
	r.printShare(&out)
	words := strings.Join(strings.Fields(out.String()), " ") // the columns' widths aside
	for _, want := range []string{
		"4 callback steps of stopped executions measured, 3 not (most often: " + stopshare.MissingSent + ", 2)",
		"total SageMaker SQS cleaners stopcoord p50 2000.0 ms 200.0 ms 20.0 ms 400.0 ms 1380.0 ms",
		"p90 4000.0 ms 400.0 ms 40.0 ms 800.0 ms 2760.0 ms",
		"includes its retries after the injected faults",
	} {
		if !strings.Contains(words, want) {
			t.Errorf("the share does not say %q:\n%s", want, out.String())
		}
	}
	// Nothing to measure, nothing printed; nothing measured, no figures.
	out.Reset()
	(&report{}).printShare(&out)
	if out.Len() != 0 {
		t.Errorf("printed with no steps:\n%s", out.String())
	}
	(&report{share: r.share[4:]}).printShare(&out)
	if strings.Contains(out.String(), "cleaners  stopcoord") || !strings.Contains(out.String(), "0 callback steps of stopped executions measured, 3 not") {
		t.Errorf("nothing measured:\n%s", out.String())
	}
}
