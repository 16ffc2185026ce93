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
	b := baselines{hello: "hello", floor: "floor"}
	printGoals(&out, summarize(subjects, samples, b), b)
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

// TestCleaningFloor shows a function that cleans up against the floor with
// the cleaners' clients as well: in the table, and where it misses the
// floor's goal. The other functions are not compared with it.
func TestCleaningFloor(t *testing.T) {
	ms := time.Millisecond
	subjects := []subject{
		{name: "hello", size: 6e6}, {name: "floor", size: 10e6}, {name: "floor-cleaners", size: 11e6},
		{name: "cleans", size: 12e6}, {name: "api", size: 12e6},
	}
	samples := map[string][]time.Duration{
		"hello": {10 * ms}, "floor": {20 * ms}, "floor-cleaners": {24 * ms},
		"cleans": {25 * ms}, "api": {21 * ms},
	}
	b := baselines{hello: "hello", floor: "floor", cleaningFloor: "floor-cleaners", cleaning: map[string]bool{"cleans": true}}
	rows := summarize(subjects, samples, b)
	var out bytes.Buffer
	printTable(&out, rows, b)
	printGoals(&out, rows, b)
	got := out.String()
	for _, want := range []string{
		"| bootstrap | init p50 | init min | vs hello | vs floor | vs floor-cleaners | binary |",
		"| floor-cleaners | 24.0 ms | 24.0 ms | 2.40x | 1.20x | 1.00x | 11.0 MB |",
		"| cleans | 25.0 ms | 25.0 ms | 2.50x | 1.25x | 1.04x | 12.0 MB |",
		"| api | 21.0 ms | 21.0 ms | 2.10x | 1.05x | – | 12.0 MB |",
		"cleans: init 1.25x the floor's, goal <= 1.1x (1.04x floor-cleaners, the floor with the clients of the cleaners it links)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the output does not say %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "floor-cleaners: init") {
		t.Errorf("a baseline is held to the goals:\n%s", got)
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
