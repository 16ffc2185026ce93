package ledger_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

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
