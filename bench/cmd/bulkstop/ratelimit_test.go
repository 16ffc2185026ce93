package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestPeak(t *testing.T) {
	t0 := time.Now()
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Millisecond))
		}
		return out
	}
	for _, tc := range []struct {
		times []time.Time
		want  int
	}{
		{nil, 0},
		{at(0, 100, 200), 3},
		{at(0, 999, 1000, 1500, 1998), 4}, // 999..1998 is under a second
		{at(0, 1000, 2000), 1},
	} {
		if got := (callStats{times: tc.times}).peak(); got != tc.want {
			t.Errorf("peak of %d calls = %d, want %d", len(tc.times), got, tc.want)
		}
	}
}

// TestRateLimitThrottles refuses calls beyond the bucket with SageMaker's
// ThrottlingException, counts them, and passes the rest through.
func TestRateLimitThrottles(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) }))
	defer backend.Close()
	l := newRateLimit(2)
	defer l.close()
	l.setTarget(backend.URL)
	codes := map[int]int{}
	for range 5 {
		req, _ := http.NewRequest(http.MethodPost, l.url(), strings.NewReader(`{}`))
		req.Header.Set("X-Amz-Target", "SageMaker.StopPipelineExecution")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	s := l.snapshot()
	if codes[200] != s.byOp["StopPipelineExecution"] || s.throttled != codes[400] || codes[400] == 0 {
		t.Errorf("answers %v, stats %+v: want every refusal counted as throttled and every pass counted", codes, s)
	}
	if codes[200] > 3 {
		t.Errorf("%d calls passed a bucket of 2 a second at once, want at most 3", codes[200])
	}
}
