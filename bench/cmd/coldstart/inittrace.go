package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// initLine is one line of GODEBUG=inittrace=1:
// "init github.com/x/y @1.2 ms, 38 ms clock, 3800000 bytes, 12000 allocs".
var initLine = regexp.MustCompile(`(?m)^init (\S+) @[0-9.]+ ms, ([0-9.]+) ms clock, ([0-9]+) bytes, ([0-9]+) allocs`)

type pkgInit struct {
	pkg   string
	clock time.Duration
	bytes int64
}

func parseInitTrace(s string) []pkgInit {
	var out []pkgInit
	for _, m := range initLine.FindAllStringSubmatch(s, -1) {
		clock, _ := strconv.ParseFloat(m[2], 64)
		b, _ := strconv.ParseInt(m[3], 10, 64)
		out = append(out, pkgInit{pkg: m[1], clock: time.Duration(clock * float64(time.Millisecond)), bytes: b})
	}
	return out
}

// traceInits runs each bootstrap runs times with GODEBUG=inittrace=1 and
// prints its slowest package inits by median clock time.
func traceInits(ctx context.Context, out io.Writer, api *runtimeAPI, subjects []subject, runs, top int) error {
	fmt.Fprintf(out, "package init (GODEBUG=inittrace=1), median of %d runs; machine: %s\n", runs, machine())
	for _, s := range subjects {
		if s.size == 0 {
			continue // not a Go binary
		}
		clocks := map[string][]time.Duration{}
		bytes := map[string]int64{}
		var totals []time.Duration
		for range runs {
			_, output, err := api.once(ctx, s, "GODEBUG=inittrace=1")
			if err != nil {
				return err
			}
			var total time.Duration
			for _, p := range parseInitTrace(output) {
				clocks[p.pkg] = append(clocks[p.pkg], p.clock)
				bytes[p.pkg] = p.bytes
				total += p.clock
			}
			totals = append(totals, total)
		}
		type agg struct {
			pkg   string
			clock time.Duration
		}
		var aggs []agg
		for pkg, xs := range clocks {
			slices.Sort(xs)
			aggs = append(aggs, agg{pkg, median(xs)})
		}
		slices.SortFunc(aggs, func(a, b agg) int { return cmp.Compare(b.clock, a.clock) })
		slices.Sort(totals)
		fmt.Fprintf(out, "\n%s: %d packages, %s of package init in all (median)\n", s.name, len(aggs), ms(median(totals)))
		for _, a := range aggs[:min(top, len(aggs))] {
			fmt.Fprintf(out, "  %9s  %6.1f MB  %s\n", ms(a.clock), float64(bytes[a.pkg])/1e6, a.pkg)
		}
	}
	return nil
}
