package budget_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"golang.org/x/time/rate"

	"github.com/stopcoord/stopcoord/shared/budget"
)

// TestLimitSpacesRequests counts the requests a server sees per window: with
// a budget of 20 per second and a burst of 1, 15 calls take at least 0.7 s.
func TestLimitSpacesRequests(t *testing.T) {
	var mu sync.Mutex
	var seen []time.Time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, time.Now())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write([]byte(`{"QueueUrls":[]}`))
	}))
	defer srv.Close()
	client := sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(srv.URL),
	}, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, budget.Limit(rate.NewLimiter(20, 1))) })
	for range 15 {
		if _, err := client.ListQueues(context.Background(), &sqs.ListQueuesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != 15 {
		t.Fatalf("server saw %d requests, want 15", len(seen))
	}
	if spread := seen[14].Sub(seen[0]); spread < 650*time.Millisecond {
		t.Fatalf("15 calls at 20/s took %s, want at least 0.7 s", spread)
	}
}

// TestNewLimiterHoldsOneSecond: after a pause, one second's budget goes at
// once, and the next call waits for the rate; a budget below one is one.
func TestNewLimiterHoldsOneSecond(t *testing.T) {
	l := budget.NewLimiter(5)
	now := time.Now()
	for i := range 5 {
		if !l.AllowN(now, 1) {
			t.Fatalf("call %d of the first second's 5 refused", i+1)
		}
	}
	if l.AllowN(now, 1) {
		t.Fatal("a sixth call at the same instant allowed: the bucket holds more than a second's budget")
	}
	if !l.AllowN(now.Add(200*time.Millisecond), 1) {
		t.Fatal("a call one interval (200 ms at 5/s) later refused")
	}
	if got := budget.NewLimiter(0).Burst(); got != 1 {
		t.Fatalf("NewLimiter(0).Burst() = %d, want 1", got)
	}
}
