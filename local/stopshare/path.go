package stopshare

import (
	"sort"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Path is one callback step's stop, from the stop request to stopcoord's
// answer of the step's token, cut into the hops stopcoord cannot avoid and
// its own share, which is the rest.
type Path struct {
	Step  string
	Total time.Duration // the stop request to the token answered
	// Unavoidable: SageMaker from accepting StopPipelineExecution to the
	// Stopping message in the queue; SQS delivering it to the callback
	// function (the queue's poller handing it over, as Lambda's event
	// source mapping does); the step's cleaners doing their own work
	// (their calls to the services they stop), overlaps counted once.
	SageMaker, SQS, Cleaners time.Duration
	// stopcoord's own: the rest, and, within it, the stop API's part (the
	// request to StopPipelineExecution at SageMaker), the callback
	// function's before its first cleaner starts (after the message was
	// delivered) and after its last cleaner ends, until the answer.
	Overhead, StopAPI, BeforeCleaning, AfterCleaning time.Duration
	// Missing says why the step could not be measured; empty when it was.
	Missing string
}

// Measured reports whether the path has figures.
func (p Path) Measured() bool { return p.Missing == "" }

// Inputs is what a breakdown is computed from; every time is from the
// record of the party that did the thing.
type Inputs struct {
	Steps        []string             // the callback steps to measure
	Requested    time.Time            // the stop request
	StopReceived time.Time            // StopPipelineExecution accepted at SageMaker (SageMakerTap)
	Sent         map[string]time.Time // token -> the Stopping message in SQS (SQSTap)
	Delivered    map[string]time.Time // token -> the Stopping message first handed to the function (SQSTap)
	Answers      []emulator.Answer    // SageMaker's tokens per step
	Tokens       []pipeline.Token     // the ledger: answered at
	Cleanups     []pipeline.Cleanup   // the ledger: every attempt's start and duration
}

// AllTokens is every token of the execution: SageMaker's and the ledger's.
func (in Inputs) AllTokens() []string {
	var toks []string
	for _, a := range in.Answers {
		toks = append(toks, a.Token)
	}
	for _, t := range in.Tokens {
		toks = append(toks, t.Token)
	}
	return toks
}

// CallbackSteps is the names of the callback steps SageMaker knows for an
// execution, sorted, each once.
func CallbackSteps(answers []emulator.Answer) []string {
	seen := map[string]bool{}
	var steps []string
	for _, a := range answers {
		if !seen[a.StepName] {
			seen[a.StepName] = true
			steps = append(steps, a.StepName)
		}
	}
	sort.Strings(steps)
	return steps
}

// Why a step is not measured.
const (
	MissingStop      = "SageMaker never received the stop"
	MissingAnswer    = "the token was never answered"
	MissingSent      = "no Stopping message was seen"
	MissingDelivered = "the Stopping message was never delivered"
	MissingLate      = "the token was answered before its Stopping message was delivered"
	MissingRequest   = "no stop request time"
)

// Breakdown cuts each of in.Steps' stops into its hops.
func Breakdown(in Inputs) []Path {
	tokensOf := map[string][]string{}
	for _, a := range in.Answers {
		tokensOf[a.StepName] = append(tokensOf[a.StepName], a.Token)
	}
	out := make([]Path, 0, len(in.Steps))
	for _, step := range in.Steps {
		p := Path{Step: step, StopAPI: in.StopReceived.Sub(in.Requested)}
		var record pipeline.Token
		for _, t := range in.Tokens {
			if t.StepName == step && t.State == pipeline.TokenAnswered {
				record = t
			}
		}
		var sent, delivered time.Time
		for _, tok := range append(tokensOf[step], record.Token) {
			if at, ok := in.Sent[tok]; ok && (sent.IsZero() || at.Before(sent)) {
				sent = at
			}
			if at, ok := in.Delivered[tok]; ok && (delivered.IsZero() || at.Before(delivered)) {
				delivered = at
			}
		}
		switch {
		case in.Requested.IsZero():
			p.Missing = MissingRequest
		case in.StopReceived.IsZero():
			p.Missing = MissingStop
		case record.AnsweredAt.IsZero():
			p.Missing = MissingAnswer
		case sent.IsZero():
			p.Missing = MissingSent
		case delivered.IsZero():
			p.Missing = MissingDelivered
		case delivered.After(record.AnsweredAt):
			// Answered another way (the sweeper, a worker): the message's
			// path is not the one the answer took.
			p.Missing = MissingLate
		}
		if p.Missing != "" {
			p.StopAPI = 0
			out = append(out, p)
			continue
		}
		p.Total = record.AnsweredAt.Sub(in.Requested)
		// The tap notes a message when SQS's answer to the send is back,
		// so a poller may hold the message a moment before: SQS's part is
		// then nil, and SageMaker's ends at the delivery.
		sent = minTime(sent, delivered)
		p.SageMaker = sent.Sub(in.StopReceived)
		p.SQS = delivered.Sub(sent)
		var spans []span
		first, last := time.Time{}, time.Time{}
		for _, c := range in.Cleanups {
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
		p.Cleaners = covered(spans)
		p.Overhead = p.Total - p.SageMaker - p.SQS - p.Cleaners
		if !first.IsZero() {
			p.BeforeCleaning = first.Sub(delivered)
			p.AfterCleaning = record.AnsweredAt.Sub(last)
		}
		out = append(out, p)
	}
	return out
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
