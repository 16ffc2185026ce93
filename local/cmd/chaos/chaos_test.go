package main

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
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
