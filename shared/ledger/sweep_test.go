package ledger_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestSweepCursorMovesOnlyFromTheVersionRead(t *testing.T) {
	l, _ := newLedger(t)
	ctx := context.Background()
	cur, v, err := l.SweepCursor(ctx)
	if err != nil || cur != "" || v != 0 {
		t.Fatalf("fresh table: cursor %q version %d err %v, want empty 0", cur, v, err)
	}
	if err := l.SaveSweepCursor(ctx, "page-2", 0); err != nil {
		t.Fatal(err)
	}
	// A second run that read version 0 too loses.
	if err := l.SaveSweepCursor(ctx, "page-2-again", 0); !errors.Is(err, pipeline.ErrStale) {
		t.Fatalf("save from a stale version: %v, want ErrStale", err)
	}
	cur, v, err = l.SweepCursor(ctx)
	if err != nil || cur != "page-2" || v != 1 {
		t.Fatalf("cursor %q version %d err %v, want page-2 at 1", cur, v, err)
	}
	// The end of a pass stores the empty cursor: the next run starts over.
	if err := l.SaveSweepCursor(ctx, "", 1); err != nil {
		t.Fatal(err)
	}
	if cur, v, _ = l.SweepCursor(ctx); cur != "" || v != 2 {
		t.Fatalf("after the pass: cursor %q version %d, want empty at 2", cur, v)
	}
}
