// Command coldstart measures what a cold invocation waits for before a
// function can take its first event: the time from exec of a bootstrap to
// its first poll of the Lambda runtime API (GET .../invocation/next). That
// is the init phase Lambda bills and the caller of a cold function waits
// through, without aws-lambda-rie's own start-up in the figure.
//
// Every bootstrap is run the same number of times, interleaved (one run of
// each per round, in a shuffled order), so a busy moment on a shared
// machine lands on all of them alike; the table shows the median and the
// minimum. `make bench` builds the bootstraps with the flags the functions
// ship with and runs this.
//
//	coldstart [-runs 25] [-python bootstrap.py] [-cleaning-floor floor-cleaners -cleaning callback,sweeper] hello=path floor=path fn=path ...
//	coldstart -inittrace fn=path     # where the init time goes, per package
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "coldstart:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	runs := fs.Int("runs", 25, "runs of each bootstrap")
	python := fs.String("python", "", "a Python bootstrap script to compare with (skipped if boto3 is not installed)")
	hello := fs.String("hello", "hello", "the name of the hello-world baseline")
	floor := fs.String("floor", "floor", "the name of the floor baseline")
	cleaningFloor := fs.String("cleaning-floor", "", "the name of the floor baseline with the cleaners' clients (optional)")
	cleaning := fs.String("cleaning", "", "comma-separated names of the functions that link the cleaners' clients, compared with -cleaning-floor too")
	inittrace := fs.Bool("inittrace", false, "instead of the table, show the package inits of each bootstrap (GODEBUG=inittrace=1), slowest first")
	top := fs.Int("top", 12, "with -inittrace: how many packages to show")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	var subjects []subject
	for _, a := range fs.Args() {
		name, path, ok := strings.Cut(a, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("%q: want name=path/to/bootstrap", a)
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		subjects = append(subjects, subject{name: name, argv: []string{path}, size: info.Size()})
	}
	if *python != "" {
		if s, err := pythonSubject(*python); err != nil {
			fmt.Fprintf(out, "python row skipped: %v\n", err)
		} else {
			subjects = append(subjects, s)
		}
	}
	if len(subjects) == 0 {
		return errors.New("no bootstraps given")
	}
	api, err := newRuntimeAPI()
	if err != nil {
		return err
	}
	defer api.close()
	ctx := context.Background()
	if *inittrace {
		return traceInits(ctx, out, api, subjects, *runs, *top)
	}
	fmt.Fprintf(out, "cold init: exec of the bootstrap to its first poll of the Lambda runtime API; %d interleaved runs each\n", *runs)
	fmt.Fprintf(out, "machine: %s\n", machine())
	samples, err := measure(ctx, api, subjects, *runs, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1)))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "load average after: %s\n\n", loadAverage())
	b := baselines{hello: *hello, floor: *floor, cleaningFloor: *cleaningFloor, cleaning: map[string]bool{}}
	for _, name := range strings.Split(*cleaning, ",") {
		if name != "" {
			b.cleaning[name] = true
		}
	}
	rows := summarize(subjects, samples, b)
	printTable(out, rows, b)
	return printGoals(out, rows, b)
}
