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

func (c *cli) status(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	t := c.targetFlags(fs)
	output := fs.String("o", "text", "output: text (tables) or json (the API's view)")
	pos, err := parse(fs, args)
	if err != nil {
		return exitUsage, err
	}
	if len(pos) != 1 {
		return exitUsage, usagef("name one execution (an ARN or pipeline/execution-id)")
	}
	if *output != "text" && *output != "json" {
		return exitUsage, usagef("-o %q: want text or json", *output)
	}
	api, err := c.client(ctx, t)
	if err != nil {
		return exitError, err
	}
	out, err := api.GetExecution(ctx, &client.GetExecutionInput{Execution: pos[0]})
	if err != nil {
		return exitError, err
	}
	if *output == "json" {
		return exitOK, writeJSON(c.stdout, out.Execution)
	}
	return exitOK, printExecution(c.stdout, out.Execution, time.Now())
}

// printExecution writes the human view: the execution, its steps, what
// blocks a stop, cleanups, stops and the timeline.
func printExecution(w io.Writer, e client.Execution, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "execution\t%s\n", e.ExecutionARN)
	fmt.Fprintf(tw, "status\t%s (source: %s)\n", e.Status, e.Source)
	fmt.Fprintf(tw, "started\t%s\n", stamp(e.StartedAt))
	if e.EndedAt != nil {
		fmt.Fprintf(tw, "ended\t%s\n", stamp(e.EndedAt))
	}
	if e.FailureReason != "" {
		fmt.Fprintf(tw, "failure\t%s\n", e.FailureReason)
	}
	if v := e.PipelineVersion; v != nil {
		version := fmt.Sprint(v.ID)
		if v.DisplayName != "" {
			version += " (" + v.DisplayName + ")"
		}
		fmt.Fprintf(tw, "pipeline version\t%s\n", version)
	}

	if len(e.Parameters) > 0 {
		fmt.Fprintf(tw, "\nPARAMETER\tVALUE\n")
		for _, p := range e.Parameters {
			fmt.Fprintf(tw, "%s\t%s\n", p.Name, p.Value)
		}
	}

	if len(e.Attempts) > 0 {
		fmt.Fprintf(tw, "\nATTEMPT\tSTATUS\tSTARTED\tSTOPPING SINCE\tENDED\n")
		for _, a := range e.Attempts {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", a.Number, a.Status, stamp(a.StartedAt), stamp(a.StoppingAt), stamp(a.EndedAt))
		}
	}

	fmt.Fprintf(tw, "\nSTEP\tKIND\tSTATUS\tSTARTED\tENDED\tDETAIL\n")
	for _, s := range e.Steps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, dash(s.Kind), s.Status, stamp(s.StartedAt), stamp(s.EndedAt), stepDetail(s))
	}

	fmt.Fprintf(tw, "\nBLOCKING THE STOP\t\t\n")
	if e.Blocking.Empty() {
		fmt.Fprintf(tw, "nothing\t\t\n")
	}
	for _, cb := range e.Blocking.OpenCallbacks {
		fmt.Fprintf(tw, "callback %s\topen since %s\t%s\n", cb.StepName, stamp(cb.Since), ago(cb.Since, now))
	}
	for _, l := range e.Blocking.RunningLambdas {
		fmt.Fprintf(tw, "Lambda %s\tends by %s\t%s\n", l.StepName, stamp(l.EndsBy), until(l.EndsBy, now))
	}

	var cleanups [][]string
	for _, s := range e.Steps {
		if s.Callback == nil {
			continue
		}
		for _, cl := range s.Callback.Cleanups {
			cleanups = append(cleanups, []string{s.Name, cl.Kind + " " + cl.ID, cl.Status, fmt.Sprint(cl.Attempts), dash(cl.LastError)})
		}
	}
	if len(cleanups) > 0 {
		fmt.Fprintf(tw, "\nCLEANUP OF\tRESOURCE\tSTATUS\tATTEMPTS\tLAST ERROR\n")
		for _, row := range cleanups {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}

	if len(e.Stops) > 0 {
		fmt.Fprintf(tw, "\nSTOP\tMODE\tPHASE\tREQUESTED\tBY\tOUTCOME\n")
		for _, s := range e.Stops {
			outcome := dash(s.Outcome)
			if s.LatencyMs > 0 {
				outcome += fmt.Sprintf(" after %dms", s.LatencyMs)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID, s.Mode, s.Phase, stamp(&s.CreatedAt), dash(s.RequestedBy), outcome)
		}
	}

	if len(e.Timeline) > 0 {
		fmt.Fprintf(tw, "\nTIMELINE\t\t\n")
		for _, t := range e.Timeline {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", t.At.Local().Format("15:04:05.000"), t.Event, t.Detail)
		}
	}
	return tw.Flush()
}

func stepDetail(s client.Step) string {
	var parts []string
	if s.EndsBy != nil && s.EndedAt == nil {
		parts = append(parts, "ends by "+stamp(s.EndsBy))
	}
	if s.Callback != nil {
		cb := "callback " + s.Callback.State
		if s.Callback.Outcome != "" {
			cb += " (" + s.Callback.Outcome + ")"
		}
		parts = append(parts, cb)
	}
	if s.JobARN != "" {
		parts = append(parts, s.JobARN)
	}
	if s.FailureReason != "" {
		parts = append(parts, s.FailureReason)
	}
	return dash(strings.Join(parts, "; "))
}

func stamp(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func ago(t *time.Time, now time.Time) string {
	if t == nil {
		return ""
	}
	return now.Sub(*t).Round(time.Second).String() + " ago"
}

func until(t *time.Time, now time.Time) string {
	if t == nil {
		return ""
	}
	if d := t.Sub(now); d > 0 {
		return "in " + d.Round(time.Second).String()
	}
	return "past"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
