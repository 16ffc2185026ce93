// Package metricstest reads EMF lines back as CloudWatch would, for tests:
// Parse checks each line against the embedded metric format and returns
// the data points it defines; Capture makes metrics.Default() record into
// a buffer for the length of a test.
package metricstest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stopcoord/stopcoord/shared/metrics"
)

// Point is one metric value under one dimension set.
type Point struct {
	Namespace, Name, Unit string
	Value                 float64
	Dims                  map[string]string
}

// Parse checks every line of out against the EMF specification (a JSON
// object; _aws.Timestamp in epoch milliseconds; directives with a
// namespace and metrics; every metric a numeric root member; every
// dimension a string root member; at most 30 dimensions a set) and returns
// the points. Lines that are not EMF (other log lines) are skipped.
func Parse(out []byte) ([]Point, error) {
	var points []Point
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var doc map[string]any
		if json.Unmarshal(line, &doc) != nil || doc["_aws"] == nil {
			continue
		}
		p, err := parseLine(doc)
		if err != nil {
			return nil, fmt.Errorf("%w\n%s", err, line)
		}
		points = append(points, p...)
	}
	return points, sc.Err()
}

func parseLine(doc map[string]any) ([]Point, error) {
	meta, ok := doc["_aws"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("_aws is not an object")
	}
	if ts, ok := meta["Timestamp"].(float64); !ok || ts < 1e12 {
		return nil, fmt.Errorf("_aws.Timestamp %v is not epoch milliseconds", meta["Timestamp"])
	}
	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) == 0 {
		return nil, fmt.Errorf("no CloudWatchMetrics directives")
	}
	var points []Point
	for _, d := range directives {
		d, _ := d.(map[string]any)
		ns, _ := d["Namespace"].(string)
		sets, _ := d["Dimensions"].([]any)
		defs, _ := d["Metrics"].([]any)
		if ns == "" || len(defs) == 0 {
			return nil, fmt.Errorf("directive without a namespace or metrics")
		}
		for _, def := range defs {
			def, _ := def.(map[string]any)
			name, _ := def["Name"].(string)
			unit, _ := def["Unit"].(string)
			value, ok := doc[name].(float64)
			if !ok {
				return nil, fmt.Errorf("metric %q has no numeric root member", name)
			}
			for _, set := range sets {
				set, _ := set.([]any)
				if len(set) > 30 {
					return nil, fmt.Errorf("dimension set of %d > 30", len(set))
				}
				dims := map[string]string{}
				for _, dim := range set {
					k, _ := dim.(string)
					v, ok := doc[k].(string)
					if !ok || v == "" {
						return nil, fmt.Errorf("dimension %q has no non-empty string root member", k)
					}
					dims[k] = v
				}
				points = append(points, Point{Namespace: ns, Name: name, Unit: unit, Value: value, Dims: dims})
			}
		}
	}
	return points, nil
}

// Find returns the points of a metric whose dimensions are exactly dims.
func Find(points []Point, name string, dims map[string]string) []Point {
	var out []Point
	for _, p := range points {
		if p.Name != name || len(p.Dims) != len(dims) {
			continue
		}
		match := true
		for k, v := range dims {
			match = match && p.Dims[k] == v
		}
		if match {
			out = append(out, p)
		}
	}
	return out
}

// Sum adds up the values of a metric under exactly dims.
func Sum(points []Point, name string, dims map[string]string) float64 {
	var s float64
	for _, p := range Find(points, name, dims) {
		s += p.Value
	}
	return s
}

// Captured is what metrics.Default() recorded during a test.
type Captured struct {
	t   testing.TB
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *Captured) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// Deployment is the Deployment dimension Capture records with.
const Deployment = "test"

// Capture makes metrics.Default() an EMF recorder into memory until the
// test ends. Tests that use it must not run in parallel.
func Capture(t testing.TB) *Captured {
	c := &Captured{t: t}
	before := metrics.Default()
	metrics.SetDefault(metrics.NewEMF(c, Deployment))
	t.Cleanup(func() { metrics.SetDefault(before) })
	return c
}

// Points parses what was recorded so far, failing the test on a line
// that is not valid EMF.
func (c *Captured) Points() []Point {
	c.t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	p, err := Parse(c.buf.Bytes())
	if err != nil {
		c.t.Fatalf("invalid EMF: %v", err)
	}
	return p
}

// Sum adds up a metric recorded under the Deployment dimension and the
// given ones.
func (c *Captured) Sum(name string, kv ...string) float64 {
	c.t.Helper()
	dims := map[string]string{metrics.DimDeployment: Deployment}
	for i := 0; i+1 < len(kv); i += 2 {
		dims[kv[i]] = kv[i+1]
	}
	return Sum(c.Points(), name, dims)
}
