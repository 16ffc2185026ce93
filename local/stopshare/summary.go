package stopshare

import (
	"sort"
	"time"
)

// Summary aggregates many steps' paths: a run's figures.
type Summary struct {
	Measured   int
	Unmeasured int
	// TopReason is the most common reason a step was not measured, and
	// how many steps it covers (the first in alphabetical order on a tie,
	// so that a run prints the same words each time).
	TopReason      string
	TopReasonCount int
	// P50 and P90 are the nearest-rank percentiles of each column over the
	// measured paths; each column is ranked on its own.
	P50, P90 Path
}

// Summarize ranks each column of the measured paths and counts the rest.
func Summarize(paths []Path) Summary {
	var s Summary
	reasons := map[string]int{}
	var cols [5][]time.Duration // total, SageMaker, SQS, cleaners, overhead
	for _, p := range paths {
		if !p.Measured() {
			s.Unmeasured++
			reasons[p.Missing]++
			continue
		}
		s.Measured++
		for i, d := range []time.Duration{p.Total, p.SageMaker, p.SQS, p.Cleaners, p.Overhead} {
			cols[i] = append(cols[i], d)
		}
	}
	for r, n := range reasons {
		if n > s.TopReasonCount || (n == s.TopReasonCount && r < s.TopReason) {
			s.TopReason, s.TopReasonCount = r, n
		}
	}
	if s.Measured == 0 {
		return s
	}
	at := func(q int) Path {
		var v [5]time.Duration
		for i, xs := range cols {
			v[i] = Percentile(xs, q)
		}
		return Path{Total: v[0], SageMaker: v[1], SQS: v[2], Cleaners: v[3], Overhead: v[4]}
	}
	s.P50, s.P90 = at(50), at(90)
	return s
}

// Percentile is the nearest-rank q-th percentile of xs (0 for none); xs
// is not changed.
func Percentile(xs []time.Duration, q int) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (q*len(s)+99)/100 - 1
	return s[min(max(i, 0), len(s)-1)]
}
