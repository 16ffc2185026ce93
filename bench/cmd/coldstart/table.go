package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The goals a function's init and binary are held to (issue 16).
const (
	maxVsFloor     = 1.1
	maxVsHello     = 3.0
	minVsPython    = 20.0
	maxBinaryBytes = 15e6
)

type row struct {
	subject
	median, min      time.Duration
	vsHello, vsFloor float64 // 0 when the baseline is missing
	// vsCleaning is against the floor with the cleaners' clients, for the
	// functions that clean up and that floor itself; 0 for the others.
	vsCleaning float64
	python     bool
	baseline   bool
}

// baselines names the bootstraps the functions are compared with.
type baselines struct {
	hello, floor string
	// cleaningFloor is the floor with the cleaners' clients, and cleaning
	// the functions that link them; both optional.
	cleaningFloor string
	cleaning      map[string]bool
}

func (b baselines) is(name string) bool {
	return name == b.hello || name == b.floor || name == b.cleaningFloor && name != ""
}

func summarize(subjects []subject, samples map[string][]time.Duration, b baselines) []row {
	rows := make([]row, 0, len(subjects))
	medians := map[string]time.Duration{}
	for _, s := range subjects {
		xs := slices.Clone(samples[s.name])
		slices.Sort(xs)
		r := row{subject: s, median: median(xs), min: xs[0], python: s.size == 0, baseline: b.is(s.name)}
		medians[s.name] = r.median
		rows = append(rows, r)
	}
	for i := range rows {
		if h := medians[b.hello]; h > 0 {
			rows[i].vsHello = float64(rows[i].median) / float64(h)
		}
		if f := medians[b.floor]; f > 0 {
			rows[i].vsFloor = float64(rows[i].median) / float64(f)
		}
		if c := medians[b.cleaningFloor]; c > 0 && (b.cleaning[rows[i].name] || rows[i].name == b.cleaningFloor) {
			rows[i].vsCleaning = float64(rows[i].median) / float64(c)
		}
	}
	return rows
}

// median of sorted xs: the middle one, or the mean of the middle two.
func median(xs []time.Duration) time.Duration {
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

func printTable(out io.Writer, rows []row, b baselines) {
	if b.cleaningFloor == "" {
		fmt.Fprintln(out, "| bootstrap | init p50 | init min | vs hello | vs floor | binary |")
		fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|")
	} else {
		fmt.Fprintf(out, "| bootstrap | init p50 | init min | vs hello | vs floor | vs %s | binary |\n", b.cleaningFloor)
		fmt.Fprintln(out, "|---|---:|---:|---:|---:|---:|---:|")
	}
	for _, r := range rows {
		size := "–"
		if !r.python {
			size = fmt.Sprintf("%.1f MB", float64(r.size)/1e6)
		}
		cleaning := ""
		if b.cleaningFloor != "" {
			cleaning = " " + ratio(r.vsCleaning) + " |"
		}
		fmt.Fprintf(out, "| %s | %s | %s | %s | %s |%s %s |\n", r.name, ms(r.median), ms(r.min), ratio(r.vsHello), ratio(r.vsFloor), cleaning, size)
	}
}

// printGoals checks every function (each row that is neither a baseline
// nor Python) against the goals and says which figure falls short. A
// function that cleans up and misses the floor's goal is shown against the
// floor with the cleaners' clients too, which says how much of the miss is
// those clients' init.
func printGoals(out io.Writer, rows []row, b baselines) error {
	var py time.Duration
	for _, r := range rows {
		if r.python {
			py = r.median
		}
	}
	var short []string
	checked := 0
	for _, r := range rows {
		if r.baseline || r.python {
			continue
		}
		checked++
		if r.vsFloor > maxVsFloor {
			miss := fmt.Sprintf("%s: init %.2fx the floor's, goal <= %.1fx", r.name, r.vsFloor, maxVsFloor)
			if r.vsCleaning > 0 {
				miss += fmt.Sprintf(" (%.2fx %s, the floor with the clients of the cleaners it links)", r.vsCleaning, b.cleaningFloor)
			}
			short = append(short, miss)
		}
		if r.vsHello > maxVsHello {
			short = append(short, fmt.Sprintf("%s: init %.2fx hello world's, goal <= %.1fx", r.name, r.vsHello, maxVsHello))
		}
		if py > 0 && float64(py)/float64(r.median) < minVsPython {
			short = append(short, fmt.Sprintf("%s: %.1fx faster than Python/boto3, goal >= %.0fx", r.name, float64(py)/float64(r.median), minVsPython))
		}
		if r.size > maxBinaryBytes {
			short = append(short, fmt.Sprintf("%s: binary %.1f MB, goal <= %.0f MB", r.name, float64(r.size)/1e6, maxBinaryBytes/1e6))
		}
	}
	if py > 0 {
		for _, r := range rows {
			if !r.baseline && !r.python {
				fmt.Fprintf(out, "\n%s is %.0fx faster than %s", r.name, float64(py)/float64(r.median), "Python/boto3")
			}
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "\ngoals per function: init <= %.1fx %s and <= %.0fx %s, >= %.0fx faster than Python/boto3, binary <= %.0f MB\n",
		maxVsFloor, b.floor, maxVsHello, b.hello, minVsPython, maxBinaryBytes/1e6)
	if len(short) == 0 {
		fmt.Fprintf(out, "all met by the %d functions measured\n", checked)
		return nil
	}
	fmt.Fprintf(out, "short of the goals:\n  %s\n", strings.Join(short, "\n  "))
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func ratio(x float64) string {
	if x == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", x)
}
