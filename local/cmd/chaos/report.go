package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/stack"
	"github.com/stopcoord/stopcoord/local/stopshare"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// The invariants, in the order the table shows them.
const (
	invStatus    = "execution ends in its script's status"
	invToken     = "callback token answered exactly once in effect"
	invResource  = "registered resource cleaned, refused or recorded"
	invCleanOnce = "resource cleaned once per stop (no duplicate handling)"
	invLedger    = "ledger matches the emulator (execution and steps)"
	invSQS       = "SQS message processed, or in a DLQ with a reason"
	invProcesses = "no process left behind"
	invHarness   = "the harness ran as planned"
)

var invariants = []string{invStatus, invToken, invResource, invCleanOnce, invLedger, invSQS, invProcesses, invHarness}

// report checks the invariants against the emulator's truth and prints them.
type report struct {
	c       *chaos
	checked map[string]int
	notes   map[string]string
	viol    []violation
	latency map[trigger][]time.Duration
	unended map[trigger]int
	queues  []string // one line per queue
	truth   map[string]*truth
	slowest []slowStop
	// eventLag is, per terminal step, from its end at SageMaker to the
	// ledger's record of it: the local event path's delay.
	eventLag []time.Duration
	// stories are the timelines of executions with a violation.
	stories []slowStop
	lagSeen map[string]bool
	// lostEvents counts the emulator's failed event deliveries before the
	// stack was closed.
	lostEvents int
	// share is every callback step's stop of every stopped execution, cut
	// into its hops (local/stopshare): a report line, never a violation.
	share []stopshare.Path
}

// slowStop is one of the slowest stops, with its timeline.
type slowStop struct {
	x       *execution
	start   time.Time
	latency time.Duration
	lines   []string
}

type violation struct{ invariant, execution, detail, arn string }

// truth is what the emulator says about one execution.
type truth struct {
	status    string
	startedAt time.Time
	ended     time.Time
	steps     []smtypes.PipelineExecutionStep
}

func (r *report) init() {
	if r.checked == nil {
		r.checked, r.notes = map[string]int{}, map[string]string{}
		r.latency, r.unended, r.truth = map[trigger][]time.Duration{}, map[trigger]int{}, map[string]*truth{}
	}
}

func (r *report) fail(inv string, x *execution, format string, args ...any) {
	name := "-"
	if x != nil {
		name = fmt.Sprintf("#%d %s %s", x.i, x.script.name, x.arn)
	}
	v := violation{invariant: inv, execution: name, detail: fmt.Sprintf(format, args...)}
	if x != nil {
		v.arn = x.arn
	}
	r.viol = append(r.viol, v)
}

func (r *report) violations() int { return len(r.viol) }

// collect checks every invariant but the processes (checked after the
// stack is closed).
func (r *report) collect(ctx context.Context) {
	r.init()
	c := r.c
	for _, x := range c.execs {
		t := &truth{}
		if out, err := c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(x.arn)}); err == nil {
			t.status = string(out.PipelineExecutionStatus)
			t.startedAt = aws.ToTime(out.CreationTime)
			if pipeline.ExecutionStatus(t.status).Terminal() && out.LastModifiedTime != nil {
				t.ended = *out.LastModifiedTime
			}
		} else {
			c.harnessProblem("describe %s: %v", x.arn, err)
		}
		t.steps = c.listSteps(ctx, x.arn)
		r.truth[x.arn] = t
	}
	r.checkStatuses()
	r.checkTokens()
	r.checkResources(ctx)
	r.checkLedger(ctx)
	r.checkLatency(ctx)
	r.measureShare(ctx)
	r.checkQueues(ctx)
	seen := map[*execution]bool{}
	for _, s := range r.slowest {
		seen[s.x] = true
	}
	for _, v := range r.viol {
		x := c.byARN[v.arn]
		if x == nil || seen[x] || len(r.stories) >= 6 {
			continue
		}
		seen[x] = true
		start := r.truth[x.arn].startedAt
		c.mu.Lock()
		if at, ok := c.stopAt[x.arn]; ok {
			start = at
		}
		c.mu.Unlock()
		r.stories = append(r.stories, slowStop{x: x, start: start, lines: c.timeline(ctx, x, r.truth[x.arn], start)})
	}
}

func (c *chaos) listSteps(ctx context.Context, arn string) []smtypes.PipelineExecutionStep {
	var steps []smtypes.PipelineExecutionStep
	p := sagemaker.NewListPipelineExecutionStepsPaginator(c.sm, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			c.harnessProblem("list the steps of %s: %v", arn, err)
			return steps
		}
		steps = append(steps, page.PipelineExecutionSteps...)
	}
	return steps
}

func (r *report) checkStatuses() {
	for _, x := range r.c.execs {
		r.checked[invStatus]++
		t := r.truth[x.arn]
		switch {
		case !pipeline.ExecutionStatus(t.status).Terminal():
			r.fail(invStatus, x, "never ended: still %s %s after the stops (want %s: %s); steps: %s%s", t.status, r.c.opts.settle, x.script.expect, x.script.why, stepSummary(t.steps), apiNotes(x))
		case t.status != x.script.expect:
			r.fail(invStatus, x, "ended %s, want %s (%s); steps: %s%s", t.status, x.script.expect, x.script.why, stepSummary(t.steps), apiNotes(x))
		}
	}
}

// stepSummary says how each step ended, with the reason of a failure.
func stepSummary(steps []smtypes.PipelineExecutionStep) string {
	var parts []string
	for _, s := range steps {
		p := aws.ToString(s.StepName) + " " + string(s.StepStatus)
		if s.FailureReason != nil {
			p += fmt.Sprintf(" (%q)", truncate(aws.ToString(s.FailureReason), 120))
		}
		parts = append(parts, p)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func apiNotes(x *execution) string {
	if len(x.apiNotes) == 0 {
		return ""
	}
	return "; the stop API said: " + strings.Join(x.apiNotes, "; ")
}

// checkTokens counts, per callback token SageMaker lists, the Send* calls
// the emulator accepted: the first success is the answer, a later success
// with the same ClientRequestToken is an idempotent replay, and a success
// with another ClientRequestToken would be a second answer.
func (r *report) checkTokens() {
	byToken := map[string][]sendRecord{}
	attempts, accepted, replays, conflicts, faulted, notFound := 0, 0, 0, 0, 0, 0
	for _, s := range r.c.front.sends() {
		byToken[s.Token] = append(byToken[s.Token], s)
	}
	for _, x := range r.c.execs {
		for _, st := range r.truth[x.arn].steps {
			if st.Metadata == nil || st.Metadata.Callback == nil || st.Metadata.Callback.CallbackToken == nil {
				continue
			}
			token := aws.ToString(st.Metadata.Callback.CallbackToken)
			r.checked[invToken]++
			first := ""
			answers := 0
			for _, s := range byToken[token] {
				attempts++
				switch {
				case s.Status == 200 && first == "":
					first = s.RequestToken
					answers++
					accepted++
				case s.Status == 200 && s.RequestToken == first:
					replays++
				case s.Status == 200:
					answers++
				case s.ErrorType == "ConflictException":
					conflicts++
				case s.ErrorType == "ResourceNotFound":
					notFound++
				default:
					faulted++
				}
			}
			switch {
			case answers == 0:
				r.fail(invToken, x, "the token of step %s (%s) was never answered (%d Send* attempts)", aws.ToString(st.StepName), st.StepStatus, len(byToken[token]))
			case answers > 1:
				r.fail(invToken, x, "the token of step %s was answered %d times with different ClientRequestTokens", aws.ToString(st.StepName), answers)
			}
		}
	}
	r.notes[invToken] = fmt.Sprintf("Send* attempts %d: accepted %d, replays %d, conflicts %d, not found %d, throttled/5xx %d", attempts, accepted, replays, conflicts, notFound, faulted)
}

// checkResources holds every resource a worker registered to the truth of
// the service that runs it.
func (r *report) checkResources(ctx context.Context) {
	c := r.c
	counts := map[string]int{}
	handedTwice := 0
	views := map[string]pipeline.View{}
	for _, wk := range c.workers.all() {
		if wk.handedOver > 1 {
			handedTwice++
		}
		x := c.byARN[wk.arn]
		if x == nil || wk.resource == nil {
			continue
		}
		r.checked[invResource]++
		switch {
		case wk.registration == "refused":
			counts["refused (the worker cleaned up)"]++
			continue
		case strings.HasPrefix(wk.registration, "failed"):
			r.fail(invResource, x, "the worker could not register its %s %s: %s", wk.resource.Kind, wk.resource.ID, wk.registration)
			continue
		}
		times, cleaned := c.cleanedBy(ctx, *wk.resource, wk.token)
		r.checked[invCleanOnce]++
		if len(times) > 1 && times[1].Sub(times[0]) < 10*time.Second {
			r.fail(invCleanOnce, x, "%s %s cleaned %d times, the second %s after the first (one stop handled twice)", wk.resource.Kind, short(wk.resource.ID), len(times), times[1].Sub(times[0]).Round(time.Millisecond))
		}
		if cleaned {
			counts["cleaned"]++
			continue
		}
		view, ok := views[wk.arn]
		if !ok {
			v, err := c.ledger.ReadExecution(ctx, mustARN(wk.arn))
			if err != nil {
				c.harnessProblem("read the ledger for %s: %v", wk.arn, err)
			}
			view, views[wk.arn] = v, v
		}
		recorded := ""
		for _, cl := range view.Cleanups {
			if cl.Token != wk.token || cl.Resource.Key() != wk.resource.Key() {
				continue
			}
			attention := false
			for _, t := range view.Tokens {
				attention = attention || (t.Token == wk.token && t.Attention)
			}
			switch {
			case cl.Status == pipeline.CleanupSkipped:
				recorded = "recorded skipped (force)"
			case cl.Status == pipeline.CleanupFailed && attention:
				recorded = "recorded abandoned, flagged for attention"
			}
		}
		if recorded != "" {
			counts[recorded]++
			continue
		}
		r.fail(invResource, x, "registered %s %s (step %s) is still running and the ledger records no skipped or abandoned cleanup", wk.resource.Kind, short(wk.resource.ID), wk.step)
	}
	var parts []string
	for k, v := range counts {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(parts)
	if handedTwice > 0 {
		parts = append(parts, fmt.Sprintf("tokens handed to a worker twice %d", handedTwice))
	}
	r.notes[invResource] = strings.Join(parts, ", ")
}

// cleanedBy reports when stopcoord cleaned a resource (every successful
// cleanup it can see) and whether the resource is stopped.
func (c *chaos) cleanedBy(ctx context.Context, res pipeline.Resource, token string) ([]time.Time, bool) {
	switch res.Kind {
	case "sfn-execution":
		out, err := c.sfn.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(res.ID)})
		return nil, err == nil && out.Status == "ABORTED"
	case "glue-job-run":
		out, err := c.glue.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String(glueJob), RunId: aws.String(res.ID)})
		return nil, err == nil && out.JobRun != nil && (out.JobRun.JobRunState == "STOPPED" || out.JobRun.JobRunState == "STOPPING")
	case "lambda-cleanup":
		fn := c.cleanup
		if strings.HasSuffix(res.ID, ":"+brokenCleanupFunction) {
			fn = c.brokenCleanupFn
		}
		var times []time.Time
		for _, call := range fn.callsOf(token) {
			if call.ok {
				times = append(times, call.at)
			}
		}
		return times, len(times) > 0
	default:
		var times []time.Time
		for _, s := range c.jobs.stopsOf(res.Kind, res.ID) {
			if s.by == "stopcoord" {
				times = append(times, s.at)
			}
		}
		return times, len(times) > 0
	}
}

// checkLedger compares the ledger with the emulator for every execution
// and step, giving the sweeper's reconciliation time to converge.
func (r *report) checkLedger(ctx context.Context) {
	c := r.c
	deadline := time.Now().Add(90 * time.Second)
	var mismatch map[*execution]string
	for {
		mismatch = map[*execution]string{}
		for _, x := range c.execs {
			if d := r.ledgerDiff(ctx, x); d != "" {
				mismatch[x] = d
			}
		}
		if len(mismatch) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		c.sleep(ctx, 2*time.Second)
	}
	r.checked[invLedger] = len(c.execs)
	for _, x := range c.execs {
		if d, ok := mismatch[x]; ok {
			r.fail(invLedger, x, "%s", d)
		}
	}
}

func (r *report) ledgerDiff(ctx context.Context, x *execution) string {
	// SageMaker's truth now, not at the end of the settle time: an
	// execution may have ended since.
	t := &truth{}
	out, err := r.c.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(x.arn)})
	if err != nil {
		return "describe the execution: " + err.Error()
	}
	t.status = string(out.PipelineExecutionStatus)
	t.steps = r.c.listSteps(ctx, x.arn)
	view, err := r.c.ledger.ReadExecution(ctx, mustARN(x.arn))
	if err != nil {
		return "read the ledger: " + err.Error()
	}
	r.measureEventLag(t, view)
	var diffs []string
	switch {
	case view.Execution == nil:
		diffs = append(diffs, "no execution record")
	case string(view.Execution.Status) != t.status:
		diffs = append(diffs, fmt.Sprintf("execution %s in the ledger, %s at SageMaker", view.Execution.Status, t.status))
	}
	ledgerSteps := map[string]string{}
	for _, s := range view.Steps {
		ledgerSteps[s.StepName] = string(s.Status)
	}
	for _, s := range t.steps {
		name, want := aws.ToString(s.StepName), string(s.StepStatus)
		if got, ok := ledgerSteps[name]; !ok {
			diffs = append(diffs, fmt.Sprintf("step %s missing (%s at SageMaker)", name, want))
		} else if got != want {
			diffs = append(diffs, fmt.Sprintf("step %s %s in the ledger, %s at SageMaker", name, got, want))
		}
	}
	return strings.Join(diffs, "; ")
}

// measureEventLag records, the first time an execution's ledger matches
// for a step, how long after the step ended the ledger recorded it.
func (r *report) measureEventLag(t *truth, view pipeline.View) {
	if r.lagSeen == nil {
		r.lagSeen = map[string]bool{}
	}
	for _, ls := range view.Steps {
		key := ls.ExecutionARN + "#" + ls.StepName
		if r.lagSeen[key] || !ls.Status.Terminal() {
			continue
		}
		for _, s := range t.steps {
			if aws.ToString(s.StepName) == ls.StepName && string(s.StepStatus) == string(ls.Status) && s.EndTime != nil {
				r.lagSeen[key] = true
				r.eventLag = append(r.eventLag, max(0, ls.UpdatedAt.Sub(*s.EndTime)))
			}
		}
	}
}

// checkLatency measures each stop from its request to the end of the
// execution at SageMaker. Stops the harness did not send are measured from
// the ledger's stop request (scheduled, max runtime) or from the step
// failure (fail-fast).
func (r *report) checkLatency(ctx context.Context) {
	c := r.c
	for _, x := range c.execs {
		if x.script.trigger == trigNone {
			continue
		}
		t := r.truth[x.arn]
		if t.ended.IsZero() {
			r.unended[x.script.trigger]++
			continue
		}
		start, ok := r.stopStart(ctx, x)
		if !ok {
			r.unended[x.script.trigger]++ // no stop was ever requested
			continue
		}
		d := max(0, t.ended.Sub(start))
		r.latency[x.script.trigger] = append(r.latency[x.script.trigger], d)
		r.slowest = append(r.slowest, slowStop{x: x, start: start, latency: d})
	}
	sort.Slice(r.slowest, func(i, j int) bool { return r.slowest[i].latency > r.slowest[j].latency })
	if len(r.slowest) > 3 {
		r.slowest = r.slowest[:3]
	}
	for i := range r.slowest {
		r.slowest[i].lines = c.timeline(ctx, r.slowest[i].x, r.truth[r.slowest[i].x.arn], r.slowest[i].start)
	}
}

// stopStart is when the stop of x was asked for: by the harness, or, for
// the stops stopcoord triggers itself, the ledger's stop request
// (scheduled, max runtime) or the step failure (fail-fast).
func (r *report) stopStart(ctx context.Context, x *execution) (time.Time, bool) {
	c := r.c
	c.mu.Lock()
	start, ok := c.stopAt[x.arn]
	c.mu.Unlock()
	switch {
	case x.script.trigger == trigFailFast:
		for _, s := range r.truth[x.arn].steps {
			if s.StepStatus == smtypes.StepStatusFailed && s.EndTime != nil {
				start, ok = *s.EndTime, true
			}
		}
	case !ok:
		if view, err := c.ledger.ReadExecution(ctx, mustARN(x.arn)); err == nil {
			for _, s := range view.Stops {
				if !ok || s.CreatedAt.Before(start) {
					start, ok = s.CreatedAt, true
				}
			}
		}
	}
	return start, ok
}

// timeline tells the story of one stop from the ledger and the emulator,
// in time order, relative to its start.
func (c *chaos) timeline(ctx context.Context, x *execution, t *truth, start time.Time) []string {
	type entry struct {
		at   time.Time
		what string
	}
	var es []entry
	view, err := c.ledger.ReadExecution(ctx, mustARN(x.arn))
	if err != nil {
		return []string{"read the ledger: " + err.Error()}
	}
	for _, s := range view.Stops {
		for _, e := range s.Timeline {
			es = append(es, entry{e.At, fmt.Sprintf("stop %s: %s %s", short(s.ID), e.Event, e.Detail)})
		}
	}
	for _, tk := range view.Tokens {
		if !tk.AnsweredAt.IsZero() {
			line := fmt.Sprintf("token of %s answered %s by %s", tk.StepName, tk.Outcome, tk.AnsweredBy)
			if tk.Reason != "" {
				line += fmt.Sprintf(" (%q)", truncate(tk.Reason, 140))
			}
			es = append(es, entry{tk.AnsweredAt, line})
		}
	}
	for _, cl := range view.Cleanups {
		es = append(es, entry{cl.LastAt, fmt.Sprintf("cleanup of %s %s: %s after %d attempts", cl.Resource.Kind, short(cl.Resource.ID), cl.Status, cl.Attempts)})
	}
	stepOf := map[string]string{}
	for _, s := range t.steps {
		if s.Metadata != nil && s.Metadata.Callback != nil {
			stepOf[aws.ToString(s.Metadata.Callback.CallbackToken)] = aws.ToString(s.StepName)
		}
	}
	for _, sr := range c.front.sends() {
		if step, ok := stepOf[sr.Token]; ok {
			result := fmt.Sprint(sr.Status)
			if sr.ErrorType != "" {
				result = sr.ErrorType
			}
			es = append(es, entry{sr.At, fmt.Sprintf("%s for %s by %s: %s", strings.TrimPrefix(sr.Op, "SendPipelineExecution"), step, sr.Caller, result)})
		}
	}
	if c.logErrors != nil {
		for _, d := range c.logErrors.dropped() {
			if d.execution == x.arn {
				es = append(es, entry{d.at, fmt.Sprintf("SageMaker dropped the Stopping message of %s (fault)", d.step)})
			}
		}
	}
	for _, wk := range c.workers.all() {
		if wk.arn == x.arn && wk.resource != nil {
			es = append(es, entry{wk.registeredAt, fmt.Sprintf("worker of %s: %s %s %s", wk.step, wk.resource.Kind, short(wk.resource.ID), wk.registration)})
		}
	}
	for _, s := range t.steps {
		if s.EndTime != nil {
			es = append(es, entry{*s.EndTime, fmt.Sprintf("step %s %s (SageMaker)", aws.ToString(s.StepName), s.StepStatus)})
		}
	}
	if !t.ended.IsZero() {
		es = append(es, entry{t.ended, "execution " + t.status + " (SageMaker)"})
	}
	sort.SliceStable(es, func(i, j int) bool { return es[i].at.Before(es[j].at) })
	lines := make([]string, 0, len(es))
	for _, e := range es {
		lines = append(lines, fmt.Sprintf("%+9.3fs  %s", e.at.Sub(start).Seconds(), e.what))
	}
	return lines
}

// checkQueues accounts for every SQS message: each queue a function reads
// must be empty, and whatever is in a dead-letter queue must have a
// recorded reason (a rejection in the ledger).
func (r *report) checkQueues(ctx context.Context) {
	c := r.c
	tmpl, err := stack.ReadTemplate(c.opts.template)
	if err != nil {
		c.harnessProblem("read the template: %v", err)
		return
	}
	dlqs := map[string]bool{}
	for _, id := range tmpl.OfType("AWS::SQS::Queue") {
		if rp, ok := tmpl.Resources[id].Properties["RedrivePolicy"].(map[string]any); ok {
			if ga, ok := rp["deadLetterTargetArn"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
				dlqs[ga[0].(string)] = true
			}
		}
	}
	for _, id := range tmpl.OfType("AWS::Events::Rule") {
		targets, _ := tmpl.Resources[id].Properties["Targets"].([]any)
		for _, t := range targets {
			dlc, _ := t.(map[string]any)["DeadLetterConfig"].(map[string]any)
			if ga, ok := dlc["Arn"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
				dlqs[ga[0].(string)] = true
			}
		}
	}
	rejected := map[string]bool{}
	for _, day := range []time.Time{c.begin, time.Now()} {
		rs, err := c.ledger.ListRejections(ctx, day)
		if err != nil {
			c.harnessProblem("list rejections: %v", err)
		}
		for _, rj := range rs {
			rejected[rj.MessageID] = true
		}
	}
	ids := make([]string, 0, len(c.st.Queues))
	for id := range c.st.Queues {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	sources := map[string]string{} // name -> url
	for _, id := range ids {
		if !dlqs[id] {
			sources[id] = c.st.Queues[id]
		}
	}
	// The local stand-ins of the EventBridge rules' Lambda targets.
	if rules, err := c.sqs.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("StopCoord-rule-")}); err == nil {
		for _, u := range rules.QueueUrls {
			sources[u[strings.LastIndex(u, "/")+1:]] = u
		}
	} else {
		c.harnessProblem("list the rule queues: %v", err)
	}
	// Sources drain: wait for what is in flight, then read the DLQs. A
	// message a function failed (or whose invocation was killed) is hidden
	// until the queue's visibility timeout, 12 minutes on the callback
	// queue, which outlasts the run; the run fast-forwards that timeout
	// (fastForward), so the redelivery happens now and is handled, and
	// counted, like any other. Nothing is excused: a message is accounted
	// for only once the poller deleted it after its function processed it,
	// or it sits in a DLQ with a reason.
	names := make([]string, 0, len(sources))
	for name := range sources {
		names = append(names, name)
	}
	sort.Strings(names)
	waitFrom := time.Now()
	left := map[string]int{}
	for _, name := range names {
		c.mu.Lock()
		acc := c.queues[name]
		c.mu.Unlock()
		lastForward := time.Time{}
		for {
			n := c.depth(ctx, sources[name])
			if n == 0 || time.Since(waitFrom) > 90*time.Second || ctx.Err() != nil {
				left[name] = n
				break
			}
			if acc != nil && time.Since(lastForward) > 5*time.Second {
				lastForward = time.Now()
				acc.fastForward(ctx, c.sqs, sources[name], 2*time.Second)
			}
			c.sleep(ctx, time.Second)
		}
	}
	dead := map[string]bool{}
	deadMsgs := map[string][]sqstypes.Message{}
	for _, id := range ids {
		if dlqs[id] {
			deadMsgs[id] = c.drain(ctx, c.st.Queues[id])
			for _, m := range deadMsgs[id] {
				dead[aws.ToString(m.MessageId)] = true
			}
		}
	}
	for _, name := range names {
		n := left[name]
		c.mu.Lock()
		acc := c.queues[name]
		c.mu.Unlock()
		line := fmt.Sprintf("%-44s left %d", name, n)
		if acc == nil {
			if n != 0 {
				r.fail(invSQS, nil, "%d messages still in %s %s after the run (neither processed nor dead-lettered)", n, name, time.Since(waitFrom).Round(time.Second))
			}
			r.queues = append(r.queues, line)
			continue
		}
		a := acc.accounts()
		deliveries := 0
		for _, k := range a.received {
			deliveries += k
		}
		line += fmt.Sprintf(", received %d (%d deliveries, %d of them injected repeats), processed %d", len(a.received), deliveries, a.copies, len(a.deleted))
		r.queues = append(r.queues, line)
		r.checked[invSQS] += len(a.received)
		unaccounted := 0
		forwarded, killed, pairs := 0, 0, 0
		for id := range a.received {
			if a.forward[id] > 0 {
				forwarded++
				if _, ok := c.killedMessage(id); ok {
					killed++
				} else if a.sameBatchCopy(id) {
					pairs++
				}
			}
			if a.deleted[id] || dead[id] {
				continue
			}
			unaccounted++
			body := a.bodies[id]
			if a.lost[id] {
				r.fail(invSQS, c.execOfBody(body), "message %s on %s was lost (the -lose-messages fault deleted it unprocessed): %s", id, name, summary(body))
				continue
			}
			r.fail(invSQS, c.execOfBody(body), "message %s on %s received %d times, neither processed nor dead-lettered (%s): %s", id, name, a.received[id], a.story(id), summary(body))
		}
		if forwarded > 0 {
			r.queues = append(r.queues, fmt.Sprintf("%-44s %d redelivered after their visibility timeout was fast-forwarded at the end (%d from the killed invocation, %d failed in one batch with their own repeat, %d other)",
				"", forwarded, killed, pairs, forwarded-killed-pairs))
		}
		if n > unaccounted {
			r.fail(invSQS, nil, "%d messages in %s that its poller never received", n-unaccounted, name)
		}
	}
	for _, id := range ids {
		if !dlqs[id] {
			continue
		}
		msgs := deadMsgs[id]
		r.queues = append(r.queues, fmt.Sprintf("%-44s dead-lettered %d", id, len(msgs)))
		for _, m := range msgs {
			if rejected[aws.ToString(m.MessageId)] {
				continue
			}
			x := c.execOfBody(aws.ToString(m.Body))
			r.fail(invSQS, x, "message %s is in %s with no recorded reason (received %s times): %s", aws.ToString(m.MessageId), id,
				m.Attributes["ApproximateReceiveCount"], summary(aws.ToString(m.Body)))
		}
	}
}

// summary says what a message is: a callback message's status and step, an
// event's detail type, or the start of the body (without its token).
func summary(body string) string {
	var m struct {
		Status     string         `json:"status"`
		Arguments  map[string]any `json:"arguments"`
		DetailType string         `json:"detail-type"`
		Detail     map[string]any `json:"detail"`
	}
	if json.Unmarshal([]byte(body), &m) == nil {
		switch {
		case m.Status != "":
			return fmt.Sprintf("callback message %s of step %v", m.Status, m.Arguments["step"])
		case m.DetailType != "":
			return fmt.Sprintf("event %q %v %v", m.DetailType, m.Detail["stepName"], m.Detail["currentStepStatus"])
		}
	}
	return truncate(redactToken(body), 160)
}

// killedMessage reports whether a message was in the batch whose process
// the run killed.
func (c *chaos) killedMessage(id string) (any, bool) {
	if c.watch == nil {
		return nil, false
	}
	return c.watch.inKilled.Load(id)
}

// redactToken hides a callback token in a message body: tokens are not
// printed (SPEC: tokens are not shown to readers or written to logs).
func redactToken(body string) string {
	if i := strings.Index(body, `"token":"`); i >= 0 && len(body) >= i+19 {
		return body[:i+9] + "…" + body[i+19:]
	}
	return body
}

func (c *chaos) depth(ctx context.Context, u string) int {
	out, err := c.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{
		sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		return -1
	}
	n := 0
	for _, v := range out.Attributes {
		var k int
		fmt.Sscan(v, &k)
		n += k
	}
	return n
}

// drain reads every message of a dead-letter queue (the run is over; they
// stay hidden for the rest of it).
func (c *chaos) drain(ctx context.Context, u string) []sqstypes.Message {
	var all []sqstypes.Message
	for range 100 {
		out, err := c.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10, VisibilityTimeout: 600,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil || len(out.Messages) == 0 {
			break
		}
		all = append(all, out.Messages...)
	}
	return all
}

func (c *chaos) execOfBody(body string) *execution {
	for _, x := range c.execs {
		if strings.Contains(body, x.arn) {
			return x
		}
	}
	return nil
}

// processes checks, once everything is closed, that no process the run
// started is still there (a subreaper sees even orphans), then reaps any.
func (r *report) processes() {
	r.init()
	deadline := time.Now().Add(10 * time.Second)
	var left []proc
	for {
		left = left[:0]
		for _, p := range descendants() {
			if p.state != "Z" {
				left = append(left, p)
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.checked[invProcesses] = 1
	for _, p := range left {
		r.fail(invProcesses, nil, "pid %d still running after the stack closed: %s", p.pid, truncate(p.cmdline, 160))
		syscall.Kill(p.pid, syscall.SIGKILL)
	}
	for {
		var ws syscall.WaitStatus
		if pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil); pid <= 0 || err != nil {
			break
		}
	}
	c := r.c
	if c.logErrors != nil {
		if n := r.lostEvents; n > 0 {
			c.harnessProblem("the emulator could not deliver %d PutEvents calls to moto: SageMaker events lost in the local plumbing, so ledger, fail-fast and max-runtime violations may be the test bed's, not stopcoord's", n)
		}
	}
	c.mu.Lock()
	problems := append([]string(nil), c.problems...)
	c.mu.Unlock()
	r.checked[invHarness] = 1
	for _, p := range problems {
		r.fail(invHarness, nil, "%s", p)
	}
}

func (r *report) print(w io.Writer) {
	r.init()
	c := r.c
	fmt.Fprintf(w, "\nfaults injected:\n")
	c.mu.Lock()
	for _, l := range c.faultLog {
		fmt.Fprintf(w, "  %s\n", l)
	}
	c.mu.Unlock()
	if c.watch != nil {
		fmt.Fprintf(w, "  callback function: %d batches, %d failed invocations, %d kills\n", c.watch.batches.Load(), c.watch.failed.Load(), c.watch.killed.Load())
	}
	if c.logErrors != nil {
		if d := c.logErrors.dropped(); len(d) > 0 {
			execs := map[string]bool{}
			for _, m := range d {
				execs[m.execution] = true
			}
			fmt.Fprintf(w, "  Stopping messages dropped by SageMaker: %d, of %d executions\n", len(d), len(execs))
		}
		if e := c.logErrors.String(); e != "" {
			fmt.Fprintf(w, "  errors the local parts logged: %s\n", e)
		}
		if n := c.logErrors.lostEvents() - r.lostEvents; n > 0 {
			fmt.Fprintf(w, "  %d event deliveries were still queued at the emulator when the run closed it (the local event path's backlog)\n", n)
		}
	}
	fmt.Fprintf(w, "\nqueues:\n")
	for _, l := range r.queues {
		fmt.Fprintf(w, "  %s\n", l)
	}
	failed := map[string]int{}
	for _, v := range r.viol {
		failed[v.invariant]++
	}
	fmt.Fprintf(w, "\ninvariants (seed %d, N=%d):\n", c.opts.seed, c.opts.n)
	fmt.Fprintf(w, "  %-56s %8s %8s %10s\n", "invariant", "checked", "held", "violations")
	for _, inv := range invariants {
		mark := "ok  "
		if failed[inv] > 0 {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %-51s %8d %8d %10d\n", mark, inv, r.checked[inv], max(0, r.checked[inv]-failed[inv]), failed[inv])
		if n := r.notes[inv]; n != "" {
			fmt.Fprintf(w, "       %s\n", n)
		}
	}
	fmt.Fprintf(w, "\nstop latency (request to the execution's end at SageMaker):\n")
	fmt.Fprintf(w, "  %-22s %5s %9s %9s %9s %9s %10s\n", "trigger", "n", "p50", "p95", "p99", "max", "not ended")
	for _, t := range []trigger{trigGraceful, trigForce, trigBulk, trigEvent, trigScheduled, trigMaxRuntime, trigFailFast} {
		ds := r.latency[t]
		if len(ds) == 0 && r.unended[t] == 0 {
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		fmt.Fprintf(w, "  %-22s %5d %9s %9s %9s %9s %10d\n", t, len(ds), pct(ds, 50), pct(ds, 95), pct(ds, 99), pct(ds, 100), r.unended[t])
	}
	if len(r.eventLag) > 0 {
		sort.Slice(r.eventLag, func(i, j int) bool { return r.eventLag[i] < r.eventLag[j] })
		fmt.Fprintf(w, "  %-22s %5d %9s %9s %9s %9s   (step end at SageMaker to the ledger: the local event path)\n", "status event lag", len(r.eventLag),
			pct(r.eventLag, 50), pct(r.eventLag, 95), pct(r.eventLag, 99), pct(r.eventLag, 100))
	}
	r.printShare(w)
	for _, s := range r.slowest {
		fmt.Fprintf(w, "\nslow stop: #%d %s (%s) took %s:\n", s.x.i, s.x.script.name, s.x.arn, s.latency.Round(10*time.Millisecond))
		for _, l := range s.lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	for _, s := range r.stories {
		fmt.Fprintf(w, "\nexecution with a violation: #%d %s (%s), from its stop (or its start):\n", s.x.i, s.x.script.name, s.x.arn)
		for _, l := range s.lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if len(r.viol) > 0 {
		fmt.Fprintf(w, "\nviolations (seed %d):\n", c.opts.seed)
		sort.SliceStable(r.viol, func(i, j int) bool { return indexOf(r.viol[i].invariant) < indexOf(r.viol[j].invariant) })
		shown := map[string]int{}
		for _, v := range r.viol {
			if shown[v.invariant]++; shown[v.invariant] > 25 {
				continue
			}
			fmt.Fprintf(w, "  [%s] %s: %s\n", v.invariant, v.execution, v.detail)
		}
		for inv, n := range shown {
			if n > 25 {
				fmt.Fprintf(w, "  [%s] ... and %d more\n", inv, n-25)
			}
		}
	}
}

func indexOf(inv string) int {
	for i, v := range invariants {
		if v == inv {
			return i
		}
	}
	return len(invariants)
}

// pct is the nearest-rank percentile of sorted durations.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	i := (p*len(ds)+99)/100 - 1
	i = min(max(i, 0), len(ds)-1)
	return ds[i].Round(10 * time.Millisecond).String()
}

func mustARN(s string) pipeline.ExecutionARN {
	a, _ := pipeline.ParseExecutionARN(s)
	return a
}

func short(id string) string {
	if len(id) > 60 {
		return "…" + id[len(id)-57:]
	}
	return id
}
