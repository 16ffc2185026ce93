package stopshare

import (
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// TestSummarize ranks each column of the measured paths on its own and
// counts the unmeasured by reason.
func TestSummarize(t *testing.T) {
	var paths []Path
	for i := 1; i <= 10; i++ {
		// overhead falls as total rises (990 down to 900): the columns are
		// ranked apart
		paths = append(paths, Path{Step: "s", Total: ms(100 * i), SageMaker: ms(i), SQS: ms(2 * i), Cleaners: ms(10 * i), Overhead: ms(1000 - 10*i)})
	}
	paths = append(paths,
		Path{Step: "a", Missing: MissingDelivered, Overhead: time.Hour},
		Path{Step: "b", Missing: MissingSent},
		Path{Step: "c", Missing: MissingDelivered},
	)
	s := Summarize(paths)
	if s.Measured != 10 || s.Unmeasured != 3 || s.TopReason != MissingDelivered || s.TopReasonCount != 2 {
		t.Errorf("counts %+v, want 10 measured, 3 not, 2 of them %q", s, MissingDelivered)
	}
	want50 := Path{Total: ms(500), SageMaker: ms(5), SQS: ms(10), Cleaners: ms(50), Overhead: ms(940)}
	want90 := Path{Total: ms(900), SageMaker: ms(9), SQS: ms(18), Cleaners: ms(90), Overhead: ms(980)}
	if s.P50 != want50 || s.P90 != want90 {
		t.Errorf("p50 %+v p90 %+v, want %+v and %+v", s.P50, s.P90, want50, want90)
	}
}

func TestSummarizeNothingMeasured(t *testing.T) {
	s := Summarize([]Path{{Step: "b", Missing: MissingSent}, {Step: "a", Missing: MissingStop}})
	if s.Measured != 0 || s.Unmeasured != 2 || s.P50 != (Path{}) {
		t.Errorf("got %+v, want nothing measured and no figures", s)
	}
	// a tie goes to the reason first in alphabetical order, run after run
	if s.TopReason != MissingStop {
		t.Errorf("top reason %q, want %q", s.TopReason, MissingStop)
	}
}

func TestPercentile(t *testing.T) {
	xs := []time.Duration{ms(30), ms(10), ms(20)}
	for _, tc := range []struct {
		q    int
		want time.Duration
	}{{0, ms(10)}, {50, ms(20)}, {90, ms(30)}, {100, ms(30)}} {
		if got := Percentile(xs, tc.q); got != tc.want {
			t.Errorf("p%d of %v = %v, want %v", tc.q, xs, got, tc.want)
		}
	}
	if xs[0] != ms(30) {
		t.Errorf("Percentile sorted its input: %v", xs)
	}
	if got := Percentile(nil, 50); got != 0 {
		t.Errorf("p50 of none = %v, want 0", got)
	}
}
