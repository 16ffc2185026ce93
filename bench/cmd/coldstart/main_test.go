package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/rie"
)

func TestParseInitTrace(t *testing.T) {
	out := "noise\ninit runtime @0.013 ms, 0.064 ms clock, 0 bytes, 0 allocs\n" +
		"init github.com/aws/aws-sdk-go-v2/service/sagemaker/schemas @5.1 ms, 38 ms clock, 3800000 bytes, 41000 allocs\n"
	got := parseInitTrace(out)
	if len(got) != 2 {
		t.Fatalf("parsed %d inits from %q, want 2", len(got), out)
	}
	if got[1].pkg != "github.com/aws/aws-sdk-go-v2/service/sagemaker/schemas" || got[1].clock != 38*time.Millisecond || got[1].bytes != 3800000 {
		t.Errorf("got %+v, want the sagemaker schemas at 38 ms and 3.8 MB", got[1])
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{1, 2, 9}, 2},
		{[]time.Duration{1, 2, 4, 9}, 3},
		{[]time.Duration{7}, 7},
	} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

// TestGoals holds each goal to its figure: a function that misses one is
// named with the figure, one that meets them all is not.
func TestGoals(t *testing.T) {
	ms := time.Millisecond
	subjects := []subject{
		{name: "hello", size: 6e6}, {name: "floor", size: 10e6},
		{name: "fast", size: 12e6}, {name: "slow", size: 12e6}, {name: "fat", size: 16e6},
		{name: "python"},
	}
	samples := map[string][]time.Duration{
		"hello": {10 * ms}, "floor": {25 * ms},
		"fast": {26 * ms}, "slow": {40 * ms}, "fat": {26 * ms},
		"python": {600 * ms},
	}
	var out bytes.Buffer
	printGoals(&out, summarize(subjects, samples, "hello", "floor"), "hello", "floor")
	got := out.String()
	for _, want := range []string{
		"slow: init 1.60x the floor's, goal <= 1.1x",
		"slow: init 4.00x hello world's, goal <= 3.0x",
		"slow: 15.0x faster than Python/boto3, goal >= 20x",
		"fat: binary 16.0 MB, goal <= 15 MB",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the goals do not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "fast:") {
		t.Errorf("fast meets every goal but is listed:\n%s", got)
	}
}

// TestMeasureHello runs the real hello-world bootstrap through the
// measurement: it must poll the runtime API, and a bootstrap that exits
// before it polls must be reported, not timed.
func TestMeasureHello(t *testing.T) {
	hello := rie.BuildT(t, "../../testdata/hello")
	api, err := newRuntimeAPI()
	if err != nil {
		t.Fatal(err)
	}
	defer api.close()
	samples, err := measure(context.Background(), api, []subject{{name: "hello", argv: []string{hello}}}, 2, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(samples["hello"]); n != 2 {
		t.Fatalf("%d samples, want 2", n)
	}
	for _, d := range samples["hello"] {
		if d <= 0 {
			t.Errorf("init %v, want > 0", d)
		}
	}

	exits := filepath.Join(t.TempDir(), "exits")
	if err := os.WriteFile(exits, []byte("#!/bin/sh\necho bad configuration >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, _, err := api.once(context.Background(), subject{name: "exits", argv: []string{exits}}); err == nil || !strings.Contains(err.Error(), "bad configuration") {
		t.Errorf("a bootstrap that exits at once: err %v, want its output in the error", err)
	}
}
