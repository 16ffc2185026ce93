package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// overheadGoal is what stopcoord may add to a callback step's stop, at
// the median, on the local stack (issue 16).
const overheadGoal = 100 * time.Millisecond

// stepPath is one callback step's stop, from the POST /stops to SageMaker
// accepting the step's answer, cut into the hops stopcoord cannot avoid and
// its own share, which is the rest.
type stepPath struct {
	step  string
	total time.Duration // POST /stops to the token answered
	// Unavoidable: SageMaker from accepting the stop to the Stopping
	// message in the queue; SQS delivering it; the step's cleaners doing
	// their own work (their calls to the services they stop).
	sageMaker, sqs, cleaners time.Duration
	// stopcoord's own: the rest, and, within it, the stop API's part
	// (POST /stops to StopPipelineExecution accepted), the callback
	// function's before its first cleaner starts (after SQS delivered the
	// message) and after its last cleaner ends, until the answer.
	overhead, stopAPI, beforeCleaning, afterCleaning time.Duration
	missing                                          string // what could not be measured, if anything
}

// pathInputs is what the breakdown is computed from; every time is from
// the record of the party that did the thing.
type pathInputs struct {
	requested, issued time.Time            // the demo's POST; the ledger's IssuedAt
	sent              map[string]time.Time // token -> the Stopping message in SQS (the tap)
	sqsDelivery       time.Duration        // measured apart (sqsDelivery)
	answers           []emulator.Answer    // tokens per step
	tokens            []pipeline.Token     // the ledger: answered at
	cleanups          []pipeline.Cleanup   // the ledger: every attempt's start and duration
}

func breakdown(in pathInputs) []stepPath {
	tokensOf := map[string][]string{}
	for _, a := range in.answers {
		tokensOf[a.StepName] = append(tokensOf[a.StepName], a.Token)
	}
	var out []stepPath
	for _, step := range callbackSteps {
		p := stepPath{step: step, stopAPI: in.issued.Sub(in.requested), sqs: in.sqsDelivery}
		var record pipeline.Token
		for _, t := range in.tokens {
			if t.StepName == step && t.State == pipeline.TokenAnswered {
				record = t
			}
		}
		var sent time.Time
		for _, tok := range append(tokensOf[step], record.Token) {
			if at, ok := in.sent[tok]; ok && (sent.IsZero() || at.Before(sent)) {
				sent = at
			}
		}
		switch {
		case in.issued.IsZero():
			p.missing = "the stop was never issued"
		case record.AnsweredAt.IsZero():
			p.missing = "the token was never answered"
		case sent.IsZero():
			p.missing = "no Stopping message was seen"
		}
		if p.missing != "" {
			out = append(out, p)
			continue
		}
		p.total = record.AnsweredAt.Sub(in.requested)
		// SageMaker may send the message before the stop API has noted
		// the stop as issued; then its part is nil, not negative.
		p.sageMaker = max(sent.Sub(in.issued), 0)
		var spans []span
		first, last := time.Time{}, time.Time{}
		for _, c := range in.cleanups {
			if c.Token != record.Token {
				continue
			}
			for _, a := range c.History {
				spans = append(spans, span{a.At, a.At.Add(a.Duration)})
				if first.IsZero() || a.At.Before(first) {
					first = a.At
				}
				if end := a.At.Add(a.Duration); end.After(last) {
					last = end
				}
			}
		}
		p.cleaners = covered(spans)
		p.overhead = p.total - p.sageMaker - p.sqs - p.cleaners
		if !first.IsZero() {
			p.beforeCleaning = first.Sub(sent) - p.sqs
			p.afterCleaning = record.AnsweredAt.Sub(last)
		}
		out = append(out, p)
	}
	return out
}

type span struct{ from, to time.Time }

// covered is the time the spans cover, overlaps counted once: cleaners of
// one token run side by side.
func covered(spans []span) time.Duration {
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	var total time.Duration
	var cur span
	for i, s := range spans {
		switch {
		case i == 0:
			cur = s
		case !s.from.After(cur.to):
			if s.to.After(cur.to) {
				cur.to = s.to
			}
		default:
			total += cur.to.Sub(cur.from)
			cur = s
		}
	}
	if len(spans) > 0 {
		total += cur.to.Sub(cur.from)
	}
	return total
}

// medianOverhead is the median of the measured steps' overheads.
func medianOverhead(paths []stepPath) (time.Duration, bool) {
	var xs []time.Duration
	for _, p := range paths {
		if p.missing == "" {
			xs = append(xs, p.overhead)
		}
	}
	if len(xs) == 0 {
		return 0, false
	}
	sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
	if len(xs)%2 == 0 {
		return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2, true
	}
	return xs[len(xs)/2], true
}

func printBreakdown(out io.Writer, paths []stepPath, sqsDelivery time.Duration) {
	fmt.Fprintln(out, "\nstopcoord's own share of each callback step's stop (POST /stops to SageMaker accepting the answer):")
	fmt.Fprintf(out, "  %-18s %9s %10s %7s %10s %10s %8s %11s %10s\n", "step", "total", "SageMaker", "SQS", "cleaners", "stopcoord", "(API", "pre-clean", "answer)")
	for _, p := range paths {
		if p.missing != "" {
			fmt.Fprintf(out, "  %-18s not measured: %s\n", p.step, p.missing)
			continue
		}
		fmt.Fprintf(out, "  %-18s %9s %10s %7s %10s %10s %8s %11s %10s\n", p.step, msText(p.total), msText(p.sageMaker), msText(p.sqs), msText(p.cleaners),
			msText(p.overhead), msText(p.stopAPI), msText(p.beforeCleaning), msText(p.afterCleaning))
	}
	fmt.Fprintf(out, "  SageMaker: the stop accepted to the Stopping message in the callback queue (seen between the emulator and SQS);\n"+
		"  SQS: delivery on the same SQS server, a long-poll receive waiting for a sent message, median of probes (%s);\n"+
		"  cleaners: each cleaner's own time as the ledger records every attempt; stopcoord: the rest, of which the stop API\n"+
		"  (POST to the stop issued), the callback function before its first cleaner, and after its last one until the answer.\n", msText(sqsDelivery))
	if m, ok := medianOverhead(paths); ok {
		verdict := "within"
		if m > overheadGoal {
			verdict = "over"
		}
		fmt.Fprintf(out, "stopcoord overhead, median over the callback steps: %s (%s the goal of %s)\n", msText(m), verdict, msText(overheadGoal))
	}
}

func msText(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// report prints the phases of the stop, stopcoord's share of it, and the
// ledger's final view as the stop API shows it.
func (d *demo) report(ctx context.Context, arn string, stopAt, stoppedAt time.Time, w *watcher) {
	fmt.Fprintln(d.out, "\nphases:")
	phase := func(name string, at time.Time) {
		if at.IsZero() {
			fmt.Fprintf(d.out, "  %-54s not seen\n", name)
			return
		}
		fmt.Fprintf(d.out, "  %-54s %8.3fs\n", name, at.Sub(stopAt).Seconds())
	}
	has := func(parts ...string) func(string) bool {
		return func(s string) bool {
			for _, p := range parts {
				if !strings.Contains(s, p) {
					return false
				}
			}
			return true
		}
	}
	first := func(m func(string) bool) time.Time { f, _ := w.when(m); return f }
	last := func(m func(string) bool) time.Time { _, l := w.when(m); return l }
	phase("stop issued to SageMaker", first(has("stop issued")))
	phase("execution Stopping", first(has("execution Stopping")))
	phase("Stopping messages sent (last callback step Stopping)", last(has("Stopping message is on the callback queue")))
	phase("every cleanup done", last(has("cleanup of ")))
	phase("every token answered", last(has("token of ", "answered")))
	phase("Lambda step finished (waited for)", first(has("step Score Succeeded")))
	phase("training job stopped (SageMaker's own stop)", first(has("step Train Stopped")))
	phase("execution Stopped", stoppedAt)
	phase("stop request closed in the ledger", first(has("stop request closed")))
	fmt.Fprintf(d.out, "\nend-to-end stop latency: %.3fs (POST /stops to the execution Stopped); the last step to end is the training job, whose stop is SageMaker's own\n",
		stoppedAt.Sub(stopAt).Seconds())

	in := pathInputs{requested: stopAt, sent: map[string]time.Time{}, answers: d.st.Emulator.Answers(arn)}
	if view, err := d.ledger.ReadExecution(ctx, mustARN(arn)); err == nil {
		in.tokens, in.cleanups = view.Tokens, view.Cleanups
		for _, s := range view.Stops {
			in.issued = s.IssuedAt
		}
	} else {
		d.fail("read the ledger: %v", err)
	}
	for _, a := range in.answers {
		if at := d.tap.stoppingSent(a.Token); !at.IsZero() {
			in.sent[a.Token] = at
		}
	}
	delivery, err := sqsDelivery(ctx, d.sqs, 9)
	if err != nil {
		d.fail("measure SQS delivery: %v", err)
	}
	in.sqsDelivery = delivery
	printBreakdown(d.out, breakdown(in), delivery)

	view, err := d.getExecution(ctx, arn)
	if err != nil {
		d.fail("GET /executions: %v", err)
		return
	}
	summary := map[string]any{"status": view["status"], "steps": view["steps"], "blocking": view["blocking"]}
	if stops, ok := view["stops"].([]any); ok && len(stops) > 0 {
		s, _ := stops[0].(map[string]any)
		summary["stop"] = map[string]any{"id": s["id"], "phase": s["phase"], "outcome": s["outcome"], "latencyMs": s["latencyMs"], "requestedBy": s["requestedBy"]}
	}
	b, _ := json.MarshalIndent(summary, "  ", "  ")
	fmt.Fprintf(d.out, "\nthe ledger's final view (GET /executions/{arn}):\n  %s\n", b)
}
