package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stopcoord/stopcoord/client"
)

const stopsUsage = `usage: stopcoord stops [--stuck] [--older-than 15m] [-o json] [--limit N]

Lists the stops that are still open (their execution has not ended), oldest first, with
what each still waits for: the callback steps not answered and the Lambda steps running.

  --stuck        only stops open longer than --older-than, and exit 5 when there is any:
                 use it in a script or a scheduled check (exit 0: nothing is stuck)
  --older-than   how long a stop must have been open to count as stuck (default 15m)
  -o json        the API's answer: {asOf, openLongerThan, stops: [...]}, every page
  --limit        stops per request to the API (1 to 50), pages are followed to the end

exit codes: 0 listed (and, with --stuck, none stuck), 1 failed, 2 usage, 5 a stop is stuck

flags:
`

// openStops is what `stops` prints as JSON: every page in one.
type openStops struct {
	AsOf           time.Time         `json:"asOf"`
	OpenLongerThan string            `json:"openLongerThan"`
	Stops          []client.OpenStop `json:"stops"`
}

func (c *cli) stops(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("stops", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() { fmt.Fprint(c.stderr, stopsUsage); fs.PrintDefaults() }
	t := c.targetFlags(fs)
	stuck := fs.Bool("stuck", false, "only stops open longer than --older-than; exit 5 if there is any")
	older := fs.Duration("older-than", 15*time.Minute, "how long a stop must have been open to count as stuck")
	output := fs.String("o", "text", "output: text (a table) or json")
	limit := fs.Int("limit", 0, "stops per request to the API, 1 to 50 (default the API's, 20)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage, err
	}
	switch {
	case len(pos) != 0:
		return exitUsage, usagef("stops takes no arguments, only flags")
	case *output != "text" && *output != "json":
		return exitUsage, usagef("-o %q: want text or json", *output)
	case *older < 0 || *older > 720*time.Hour:
		return exitUsage, usagef("--older-than %s: want 0 to 720h", *older)
	case *limit < 0 || *limit > 50:
		return exitUsage, usagef("--limit %d: want 1 to 50", *limit)
	}
	threshold := time.Duration(0)
	if *stuck {
		threshold = *older
	}
	api, err := c.client(ctx, t)
	if err != nil {
		return exitError, err
	}
	var all openStops
	p := client.NewListOpenStopsPaginator(api, &client.ListOpenStopsInput{OpenLongerThan: threshold, Limit: *limit})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return exitError, err
		}
		if all.AsOf.IsZero() {
			all.AsOf, all.OpenLongerThan = page.AsOf, page.OpenLongerThan
		}
		all.Stops = append(all.Stops, page.Stops...)
	}
	if all.Stops == nil {
		all.Stops = []client.OpenStop{}
	}
	code := exitOK
	if *stuck && len(all.Stops) > 0 {
		code = exitStuck
	}
	if *output == "json" {
		return code, writeJSON(c.stdout, all)
	}
	return code, printOpenStops(c.stdout, all, *stuck, threshold)
}

// printOpenStops writes one row per open stop: its execution, id, what
// asked for it, mode, since when it is open and what it still waits for.
func printOpenStops(w io.Writer, all openStops, stuck bool, threshold time.Duration) error {
	if len(all.Stops) == 0 {
		if stuck {
			_, err := fmt.Fprintf(w, "no stop has been open longer than %s\n", threshold)
			return err
		}
		_, err := fmt.Fprintln(w, "no stop is open")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "EXECUTION\tSTOP\tTRIGGER\tMODE\tOPEN SINCE\tWAITING FOR\n")
	for _, s := range all.Stops {
		since := s.Stop.CreatedAt
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s (%s)\t%s\n", shortARN(s.Stop.ExecutionARN), s.Stop.ID, dash(s.Trigger), s.Stop.Mode,
			stamp(&since), s.OpenFor(), waitingFor(s))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if stuck {
		_, err := fmt.Fprintf(w, "%d stop(s) open longer than %s; `stopcoord status <execution>` shows each in full\n", len(all.Stops), threshold)
		return err
	}
	return nil
}

// waitingFor says what an open stop still waits for.
func waitingFor(s client.OpenStop) string {
	e := s.Execution
	if e == nil {
		return "? (" + s.ViewError + ")"
	}
	waits := blockers(e.Blocking)
	switch {
	case len(waits) > 0:
		return strings.Join(waits, ", ")
	case e.Terminal:
		return "nothing: the execution ended " + e.Status + "; the stop closes with its next status event or sweep"
	case s.Stop.Phase == client.PhaseRequested:
		return "SageMaker to accept the stop (" + e.Status + ")"
	default:
		return "SageMaker to finish stopping the other steps (" + e.Status + ")"
	}
}

func shortARN(arn string) string {
	if ref, err := client.ParseExecution(arn); err == nil {
		return ref.Pipeline + "/" + ref.ID
	}
	return arn
}
