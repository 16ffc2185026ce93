package main

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// errorCounter is a log handler that counts the local parts' errors by
// message (the emulator's failed event deliveries, the pollers' failed
// receives), so the report can tell a loss in the local plumbing from one
// in stopcoord. It passes records on to next when next is enabled for them.
type errorCounter struct {
	next  slog.Handler
	mu    *sync.Mutex
	count map[string]int
	first map[string]string // message -> the first error it carried
	drops *[]droppedMessage
	attrs []slog.Attr
}

// droppedMessage is a Stopping message the emulator dropped (the
// -drop-stopping fault), as it logged it.
type droppedMessage struct {
	at              time.Time
	execution, step string
}

func newErrorCounter(next slog.Handler) *errorCounter {
	return &errorCounter{next: next, mu: &sync.Mutex{}, count: map[string]int{}, first: map[string]string{}, drops: &[]droppedMessage{}}
}

func (h *errorCounter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *errorCounter) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "dropping the Stopping message" {
		d := droppedMessage{at: r.Time}
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "executionArn":
				d.execution = a.Value.String()
			case "stepName":
				d.step = a.Value.String()
			}
			return true
		})
		h.mu.Lock()
		*h.drops = append(*h.drops, d)
		h.mu.Unlock()
	}
	if r.Level >= slog.LevelError {
		key := r.Message
		for _, a := range h.attrs {
			if a.Key == "part" || a.Key == "poller" || a.Key == "rule" {
				key = a.Value.String() + ": " + key
			}
		}
		h.mu.Lock()
		h.count[key]++
		if _, ok := h.first[key]; !ok {
			r.Attrs(func(a slog.Attr) bool {
				if a.Key == "error" {
					h.first[key] = a.Value.String()
				}
				return true
			})
		}
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

// lostEvents is how many times the emulator failed to hand events to
// moto's EventBridge (after its retries): events lost by the local
// plumbing, which stopcoord never had a chance to see.
func (h *errorCounter) lostEvents() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for k, v := range h.count {
		if strings.HasSuffix(k, "put events") || strings.HasSuffix(k, "put event") {
			n += v
		}
	}
	return n
}

// dropped returns the Stopping messages the emulator dropped.
func (h *errorCounter) dropped() []droppedMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]droppedMessage(nil), *h.drops...)
}

func (h *errorCounter) String() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var parts []string
	for k, v := range h.count {
		p := fmt.Sprintf("%s ×%d", k, v)
		if e := h.first[k]; e != "" {
			p += fmt.Sprintf(" (first: %.160s)", e)
		}
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}
