package procs_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/procs"
)

func TestLinesPrefixesWholeLines(t *testing.T) {
	var out bytes.Buffer
	lines := procs.NewLines(&out)
	a, b := lines.Writer("stop-api"), lines.Writer("sweeper")
	a.Write([]byte(`{"msg":"one`))
	b.Write([]byte("first\nsecond\n"))
	a.Write([]byte("\"}\n{\"msg\":\"two\"}\n"))
	want := "[sweeper] first\n[sweeper] second\n[stop-api] {\"msg\":\"one\"}\n[stop-api] {\"msg\":\"two\"}\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestLinesNeverInterleaveConcurrentWriters(t *testing.T) {
	var out bytes.Buffer
	lines := procs.NewLines(&out)
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c"} {
		w := lines.Writer(name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				w.Write([]byte("hello "))
				w.Write([]byte("world\n"))
			}
		}()
	}
	wg.Wait()
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != 600 {
		t.Fatalf("%d lines, want 600", len(got))
	}
	for _, l := range got {
		if l != "[a] hello world" && l != "[b] hello world" && l != "[c] hello world" {
			t.Fatalf("mixed line %q", l)
		}
	}
}

// TestStartCopiesOutputToLog: the child's output reaches Spec.Log as it is
// written, and Output keeps it too.
func TestStartCopiesOutputToLog(t *testing.T) {
	var out bytes.Buffer
	lines := procs.NewLines(&syncWriter{w: &out})
	p, err := procs.Start(context.Background(), procs.Spec{
		Name: "helper", Path: os.Args[0], Env: []string{"PROCS_HELPER=exit"}, Log: lines.Writer("helper"),
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Done():
	case <-time.After(procs.Scaled(time.Minute)):
		t.Fatal("the helper did not exit")
	}
	p.Stop()
	if !strings.Contains(p.Output(), "helper giving up") {
		t.Fatalf("Output() = %q", p.Output())
	}
	if got := out.String(); got != "[helper] helper giving up\n" {
		t.Fatalf("log got %q", got)
	}
}

func TestSlowdown(t *testing.T) {
	for v, want := range map[string]float64{"": 1, "3": 3, "1.5": 1.5, "0.5": 1, "fast": 1} {
		t.Setenv(procs.SlowdownEnv, v)
		if got := procs.Slowdown(); got != want {
			t.Errorf("%s=%q: Slowdown() = %v, want %v", procs.SlowdownEnv, v, got, want)
		}
		if bad := procs.CheckSlowdown() != nil; bad != (v == "0.5" || v == "fast") {
			t.Errorf("%s=%q: CheckSlowdown() error = %v", procs.SlowdownEnv, v, procs.CheckSlowdown())
		}
	}
	t.Setenv(procs.SlowdownEnv, "2.5")
	if got := procs.Scaled(10 * time.Second); got != 25*time.Second {
		t.Errorf("Scaled(10s) = %v at 2.5, want 25s", got)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
