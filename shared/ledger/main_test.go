package ledger_test

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestMain(m *testing.M) { os.Exit(dynamodblocal.RunTests(m)) }

// clock is a settable clock for the ledger's own timestamps.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// newLedger gives the test a ledger over a fresh table on DynamoDB Local.
func newLedger(t testing.TB, opts ...ledger.Option) (*ledger.Ledger, *clock) {
	t.Helper()
	client, table := dynamodblocal.ClientT(t)
	if err := ledger.CreateTable(context.Background(), client, table); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: t0}
	return ledger.New(client, table, append([]ledger.Option{ledger.WithClock(c.Now)}, opts...)...), c
}

func mustARN(t testing.TB, s string) pipeline.ExecutionARN {
	t.Helper()
	a, err := pipeline.ParseExecutionARN(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func execARN(t testing.TB, id string) pipeline.ExecutionARN {
	return mustARN(t, "arn:aws:sagemaker:us-east-1:123456789012:pipeline/train/execution/"+id)
}
