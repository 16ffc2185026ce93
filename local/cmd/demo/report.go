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
	// Unavoidable: SageMaker from receiving StopPipelineExecution to the
	// Stopping message in the queue; SQS delivering it to the callback
	// function (the queue's poller handing it over, as Lambda's event
	// source mapping does); the step's cleaners doing their own work
	// (their calls to the services they stop).
	sageMaker, sqs, cleaners time.Duration
	// stopcoord's own: the rest, and, within it, the stop API's part
	// (POST /stops to StopPipelineExecution at SageMaker), the callback
	// function's before its first cleaner starts (after the message was
	// delivered) and after its last cleaner ends, until the answer.
	overhead, stopAPI, beforeCleaning, afterCleaning time.Duration
	missing                                          string // what could not be measured, if anything
}

// pathInputs is what the breakdown is computed from; every time is from
// the record of the party that did the thing.
type pathInputs struct {
	requested    time.Time            // the demo's POST
	stopReceived time.Time            // StopPipelineExecution at SageMaker (sageMakerTap)
	sent         map[string]time.Time // token -> the Stopping message in SQS (sqsTap)
	delivered    map[string]time.Time // token -> the Stopping message handed to the function (sqsTap)
	answers      []emulator.Answer    // tokens per step
	tokens       []pipeline.Token     // the ledger: answered at
	cleanups     []pipeline.Cleanup   // the ledger: every attempt's start and duration
}

func breakdown(in pathInputs) []stepPath {
	tokensOf := map[string][]string{}
	for _, a := range in.answers {
		tokensOf[a.StepName] = append(tokensOf[a.StepName], a.Token)
	}
	var out []stepPath
	for _, step := range callbackSteps {
		p := stepPath{step: step, stopAPI: in.stopReceived.Sub(in.requested)}
		var record pipeline.Token
		for _, t := range in.tokens {
			if t.StepName == step && t.State == pipeline.TokenAnswered {
				record = t
			}
		}
		var sent, delivered time.Time
		for _, tok := range append(tokensOf[step], record.Token) {
			if at, ok := in.sent[tok]; ok && (sent.IsZero() || at.Before(sent)) {
				sent = at
			}
			if at, ok := in.delivered[tok]; ok && (delivered.IsZero() || at.Before(delivered)) {
				delivered = at
			}
		}
		switch {
		case in.stopReceived.IsZero():
			p.missing = "SageMaker never received the stop"
		case record.AnsweredAt.IsZero():
			p.missing = "the token was never answered"
		case sent.IsZero():
			p.missing = "no Stopping message was seen"
		case delivered.IsZero():
			p.missing = "the Stopping message was never delivered"
		}
		if p.missing != "" {
			out = append(out, p)
			continue
		}
		p.total = record.AnsweredAt.Sub(in.requested)
		// The tap notes a message when SQS's answer to the send is back,
		// so a poller may hold the message a moment before: SQS's part is
		// then nil, and SageMaker's ends at the delivery.
		sent = minTime(sent, delivered)
		p.sageMaker = sent.Sub(in.stopReceived)
		p.sqs = delivered.Sub(sent)
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
			p.beforeCleaning = first.Sub(delivered)
			p.afterCleaning = record.AnsweredAt.Sub(last)
		}
		out = append(out, p)
	}
	return out
}

// tokensOf is every token of the execution: SageMaker's and the ledger's.
func tokensOf(in pathInputs) []string {
	var toks []string
	for _, a := range in.answers {
		toks = append(toks, a.Token)
	}
	for _, t := range in.tokens {
		toks = append(toks, t.Token)
	}
	return toks
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
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

func printBreakdown(out io.Writer, paths []stepPath) {
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
	fmt.Fprint(out, "  SageMaker: StopPipelineExecution reaching SageMaker to the Stopping message in the callback queue (seen at both ends);\n"+
		"  SQS: the message in the queue to the queue's poller handing it to the callback function, as Lambda's event source mapping does;\n"+
		"  cleaners: each cleaner's own time as the ledger records every attempt; stopcoord: the rest, of which the stop API\n"+
		"  (POST to StopPipelineExecution at SageMaker), the callback function before its first cleaner, and after its last one until the answer.\n")
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

	in := pathInputs{requested: stopAt, stopReceived: d.smTap.stopReceived(arn), sent: map[string]time.Time{}, delivered: map[string]time.Time{},
		answers: d.st.Emulator.Answers(arn)}
	if view, err := d.ledger.ReadExecution(ctx, mustARN(arn)); err == nil {
		in.tokens, in.cleanups = view.Tokens, view.Cleanups
	} else {
		d.fail("read the ledger: %v", err)
	}
	for _, tok := range tokensOf(in) {
		if at := d.tap.stoppingSent(tok); !at.IsZero() {
			in.sent[tok] = at
		}
		if at := d.tap.stoppingDelivered(tok); !at.IsZero() {
			in.delivered[tok] = at
		}
	}
	printBreakdown(d.out, breakdown(in))

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
