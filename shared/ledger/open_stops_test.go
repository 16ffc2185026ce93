package ledger_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TestListOpenStops: the open-stops index holds a stop request from its
// creation until it closes, ordered by request time, paged by a cursor
// that continues exactly where the last page ended.
func TestListOpenStops(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t)
	var ids []string
	for i := range 5 {
		s, _, err := l.CreateStop(ctx, pipeline.NewStop{ARN: execARN(t, fmt.Sprintf("open%d", i)), Key: "k", Mode: pipeline.StopGraceful, At: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	// The second stop closes: it leaves the index.
	if _, err := l.CloseStop(ctx, execARN(t, "open1"), ids[1], pipeline.ExecutionStopped, t0.Add(10*time.Minute), time.Time{}); err != nil {
		t.Fatal(err)
	}
	// A retried create (the same key) adds nothing.
	if _, created, err := l.CreateStop(ctx, pipeline.NewStop{ARN: execARN(t, "open0"), Key: "k", At: t0.Add(time.Hour)}); err != nil || created {
		t.Fatalf("retried create: created=%v err=%v", created, err)
	}

	// Open at t0+3m or before: stops 0, 2 and 3, oldest first, two a page.
	var got []string
	cursor, pages := "", 0
	for {
		stops, next, err := l.ListOpenStops(ctx, t0.Add(3*time.Minute), 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range stops {
			if s.Phase == pipeline.StopClosed {
				t.Errorf("closed stop %s listed as open", s.ID)
			}
			got = append(got, s.ID)
		}
		if next == "" {
			break
		}
		cursor = next
		if pages > 5 {
			t.Fatal("the listing does not end")
		}
	}
	if want := []string{ids[0], ids[2], ids[3]}; !slices.Equal(got, want) {
		t.Fatalf("open stops %v, want %v (request order, the closed one left out)", got, want)
	}
	if pages < 2 {
		t.Fatalf("three stops at two a page came in %d page(s)", pages)
	}

	// Every open stop with a cutoff after all of them.
	all, next, err := l.ListOpenStops(ctx, t0.Add(time.Hour), 50, "")
	if err != nil || next != "" || len(all) != 4 {
		t.Fatalf("all open stops: %d, next %q, %v; want 4 on one page", len(all), next, err)
	}

	// A cursor of another listing, or garbage, is invalid.
	active, err := l.ListActive(ctx, t0.Add(time.Hour), 1, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"not-a-cursor", active.Cursor} {
		if bad == "" {
			continue
		}
		if _, _, err := l.ListOpenStops(ctx, t0, 2, bad); pipeline.Code(err) != pipeline.EInvalid {
			t.Errorf("cursor %q: err = %v, want invalid", bad, err)
		}
	}
}

// BenchmarkListOpenStops reads one page of 50 from 500 open stops: one
// Query whatever the table holds besides (calls/op), and its latency
// against DynamoDB Local.
func BenchmarkListOpenStops(b *testing.B) {
	ctx := context.Background()
	client, table := dynamodblocal.ClientT(b)
	if err := ledger.CreateTable(ctx, client, table); err != nil {
		b.Fatal(err)
	}
	counter := &roundTrips{}
	l := ledger.New(dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Finalize.Add(counter, middleware.After) })
	}), table)
	for i := range 500 {
		arn := execARN(b, fmt.Sprintf("bench%d", i))
		if _, _, err := l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			b.Fatal(err)
		}
		// Executions and steps beside them, as a real table has.
		if _, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: t0}); err != nil {
			b.Fatal(err)
		}
	}
	counter.n.Store(0)
	b.ResetTimer()
	for b.Loop() {
		stops, next, err := l.ListOpenStops(ctx, t0.Add(time.Hour), 50, "")
		if err != nil || len(stops) != 50 || next == "" {
			b.Fatalf("%d stops, next %q, %v", len(stops), next, err)
		}
	}
	b.ReportMetric(float64(counter.n.Load())/float64(b.N), "calls/op")
}
