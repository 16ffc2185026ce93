package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
)

// sqsTap sits between the SageMaker emulator and SQS (moto) and notes when
// each callback message SageMaker sends is in the queue: the moment
// SageMaker's part of a stop ends and SQS's begins.
type sqsTap struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent map[string]time.Time // token + "/" + status -> when SQS accepted it
}

func newSQSTap(target string) (*sqsTap, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("SQS endpoint %q: %w", target, err)
	}
	t := &sqsTap{sent: map[string]time.Time{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	t.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		proxy.ServeHTTP(rec, r)
		if r.Header.Get("X-Amz-Target") == "AmazonSQS.SendMessage" && rec.status == http.StatusOK {
			t.note(body, time.Now())
		}
	}))
	return t, nil
}

func (t *sqsTap) URL() string { return t.srv.URL }
func (t *sqsTap) Close()      { t.srv.Close() }

func (t *sqsTap) note(body []byte, at time.Time) {
	var in struct{ MessageBody string }
	if json.Unmarshal(body, &in) != nil {
		return
	}
	m, err := callback.Parse(in.MessageBody)
	if err != nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.sent[m.Token+"/"+string(m.Status)]; !ok {
		t.sent[m.Token+"/"+string(m.Status)] = at
	}
}

// stoppingSent is when the Stopping message for token was in the queue.
func (t *sqsTap) stoppingSent(token string) time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent[token+"/"+string(callback.StatusStopping)]
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// sqsDelivery measures SQS's own delivery time on the same SQS server the
// callback queue lives on: a message sent while a long-poll receive waits,
// until that receive returns it. It is what the callback queue's poller
// adds to every Stopping message, measured apart because the poller's
// receive happens inside the stack. The median of n probes.
func sqsDelivery(ctx context.Context, client *sqs.Client, n int) (time.Duration, error) {
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("demo-delivery-probe")})
	if err != nil {
		return 0, fmt.Errorf("create the probe queue: %w", err)
	}
	var samples []time.Duration
	for i := 0; i < n; i++ {
		got := make(chan time.Time, 1)
		errs := make(chan error, 1)
		go func() {
			out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 1})
			at := time.Now()
			if err != nil {
				errs <- err
				return
			}
			if len(out.Messages) == 0 {
				errs <- fmt.Errorf("the probe message did not arrive within the long poll")
				return
			}
			client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: out.Messages[0].ReceiptHandle})
			got <- at
		}()
		if err := sleep(ctx, 100*time.Millisecond); err != nil { // let the receive start waiting
			return 0, err
		}
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("probe")}); err != nil {
			return 0, fmt.Errorf("send a probe: %w", err)
		}
		// From the send's answer, as the tap notes SageMaker's messages.
		sent := time.Now()
		select {
		case at := <-got:
			samples = append(samples, max(at.Sub(sent), 0))
		case err := <-errs:
			return 0, err
		}
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	return samples[len(samples)/2], nil
}
