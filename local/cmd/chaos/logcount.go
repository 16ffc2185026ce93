package main

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
)

// errorCounter is a log handler that counts the local parts' errors by
// message (the emulator's failed event deliveries, the pollers' failed
// receives), so the report can tell a loss in the local plumbing from one
// in stopcoord. It passes records on to next when next is enabled for them.
type errorCounter struct {
	next  slog.Handler
	mu    *sync.Mutex
	count map[string]int
	attrs []slog.Attr
}

func newErrorCounter(next slog.Handler) *errorCounter {
	return &errorCounter{next: next, mu: &sync.Mutex{}, count: map[string]int{}}
}

func (h *errorCounter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.next.Enabled(ctx, l)
}

func (h *errorCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		key := r.Message
		for _, a := range h.attrs {
			if a.Key == "part" || a.Key == "poller" || a.Key == "rule" {
				key = a.Value.String() + ": " + key
			}
		}
		h.mu.Lock()
		h.count[key]++
		h.mu.Unlock()
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *errorCounter) WithAttrs(attrs []slog.Attr) slog.Handler {
	cp := *h
	cp.next = h.next.WithAttrs(attrs)
	cp.attrs = append(append([]slog.Attr(nil), h.attrs...), attrs...)
	return &cp
}

func (h *errorCounter) WithGroup(name string) slog.Handler {
	cp := *h
	cp.next = h.next.WithGroup(name)
	return &cp
}

func (h *errorCounter) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var parts []string
	for k, v := range h.count {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
