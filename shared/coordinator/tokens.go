package coordinator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// This file is the one way a callback token is answered, whoever answers
// it: the Stopping message, a start message during a stop, a force stop
// and the sweeper all go through tokenPath.answer.
//
//  1. claim the token with a fence unique to this attempt;
//  2. run the cleaners (or record them skipped);
//  3. send the answer with a ClientRequestToken derived from the token and
//     the answer, so a retry of the same answer is the call SageMaker
//     already accepted;
//  4. on Conflict or NotFound, ask ListPipelineExecutionSteps whether the
//     step still waits before believing the token is answered;
//  5. mark it answered, fenced by the claim, flagged in the same write;
//  6. release the claim when returning for a retry.

// Claims and their retries.
const (
	// claimMargin is added to twice the cleaner timeout for the claim's
	// lease: the claimant cleans, then answers, within it.
	claimMargin = 30 * time.Second
	// claimSlack is added to the rest of a lease a delivery found held, so
	// that it comes back after the lease has lapsed: by then the claimant
	// has answered (and the copy is a duplicate), or it died and the copy
	// takes the token over. Coming back sooner only spends the queue's
	// receives: a claimant killed mid-batch held its token for the whole
	// lease while the copies, back every 10 s, reached the redrive limit and
	// were dead-lettered with the resource never cleaned.
	claimSlack = time.Second
)

// tokenPath answers callback tokens.
type tokenPath struct {
	ledger         Ledger
	sm             SageMaker
	cleaner        Cleaner // nil: a job that would clean fails
	scope          pipeline.CleanupScope
	cleanerTimeout time.Duration
	now            func() time.Time
}

// tokenJob is one token to answer.
type tokenJob struct {
	arn pipeline.ExecutionARN
	// record is the token the step's ledger record is kept under, and the
	// one the answer goes out with: a token SageMaker lists for the step or
	// the ledger holds under the execution, never one only a message says.
	record string
	// alias is another token a Stopping message carried for the step, when
	// SageMaker issued one: recorded as answered with the step, so a
	// duplicate of the message is known, but never sent to SageMaker.
	alias string
	// known is the record as the caller read it; nil when it had none.
	known *pipeline.Token
	// claimed is the record when the caller claimed it already, with fence;
	// the claim then only merges what the record lacks.
	claimed *pipeline.Token
	fence   string
	// step, arguments and plan are merged into the record by the claim.
	step      string
	arguments map[string]any
	plan      []pipeline.Resource
	by        string // who answers, kept with the answer
	// clean runs the cleaners of the record's plan; otherwise skip, when
	// set, records each resource as skipped with that reason.
	clean bool
	skip  string
	done  []pipeline.Cleanup // cleanups recorded before, to repeat only what failed
	cc    callback.Context
	// decide turns the cleanup's outcome into the answer; an error instead
	// releases the claim and is returned (a *RetryError asks for another
	// delivery).
	decide func(rec pipeline.Token, failure *cleanupFailure) (answerPlan, error)
}

// tokenResult is what answering came to.
type tokenResult struct {
	answered  bool // this job answered the token
	duplicate bool // someone answered it before
	outcome   pipeline.Outcome
	flagged   bool
	record    pipeline.Token
}

// answerPlan is how a token is to be answered.
type answerPlan struct {
	succeed   bool
	outputs   map[string]string
	reason    string // of a failure
	attention string // flags the token for a human, with the reason
}

func (a answerPlan) outcome() pipeline.Outcome {
	if a.succeed {
		return pipeline.OutcomeSuccess
	}
	return pipeline.OutcomeFailure
}

// lease is how long a claim holds: the claimant cleans, then answers,
// within it.
func (tp *tokenPath) lease() time.Duration { return 2*tp.cleanerTimeout + claimMargin }

// claim runs step 1 for a job, unless the caller claimed the token already
// and the record lacks nothing the job would merge into it.
func (tp *tokenPath) claim(ctx context.Context, j tokenJob) (pipeline.Token, string, error) {
	if j.claimed != nil && !lacks(*j.claimed, j) {
		return *j.claimed, j.fence, nil
	}
	fence, known := j.fence, j.known
	if j.claimed != nil {
		known = j.claimed // claimed by fence: claiming again merges
	} else {
		fence = newFence(j.by)
	}
	rec, err := tp.ledger.ClaimToken(ctx, pipeline.TokenClaim{ARN: j.arn, Token: j.record, Fence: fence, Lease: tp.lease(),
		Known: known, StepName: j.step, Arguments: j.arguments, Plan: j.plan})
	return rec, fence, err
}

// lacks reports whether the claim would merge something into rec: a step
// name, arguments, or a resource of the job's plan it does not hold.
func lacks(rec pipeline.Token, j tokenJob) bool {
	return rec.StepName == "" && j.step != "" ||
		len(rec.Arguments) == 0 && len(j.arguments) > 0 ||
		len(pipeline.MergePlan(rec.CleanupPlan, j.plan)) > len(rec.CleanupPlan)
}

// answer runs the token path for one job.
func (tp *tokenPath) answer(ctx context.Context, j tokenJob) (tokenResult, error) {
	rec, fence, err := tp.claim(ctx, j)
	if err != nil {
		if j.claimed != nil {
			return tokenResult{}, tp.release(ctx, j, fence, err)
		}
		return tp.claimOutcome(err)
	}
	res := tokenResult{record: rec}
	if j.cc.Token == "" {
		// What the worker was told, as the claimed record knows it.
		j.cc = callback.Context{Token: j.record, ExecutionARN: j.arn.String(), StepName: rec.StepName, Arguments: rec.Arguments, Status: callback.StatusStopping}
	}

	var failure *cleanupFailure
	switch {
	case j.clean:
		failure = tp.clean(ctx, j.arn, j.record, rec.CleanupPlan, j.cc, j.done)
	case j.skip != "":
		if err := tp.recordSkipped(ctx, j, rec); err != nil {
			return res, tp.release(ctx, j, fence, err)
		}
	}
	ap, err := j.decide(rec, failure)
	if err != nil {
		return res, tp.release(ctx, j, fence, err)
	}
	note, err := tp.send(ctx, j.arn, j.record, ap)
	if err != nil {
		return res, tp.release(ctx, j, fence, err)
	}

	a := pipeline.Answer{By: j.by, Outcome: ap.outcome(), Reason: ap.reason, Fence: fence, Attention: ap.attention}
	if note != "" {
		a.Reason = truncate(note+"; "+ap.reason, 1024)
	}
	if j.alias != "" && j.alias != j.record {
		// Without a step name (the step's record is j.record), so the view
		// shows the step once.
		if _, _, err := tp.ledger.CompleteToken(ctx, pipeline.TokenRegistration{ARN: j.arn, Token: j.alias}); err != nil {
			return res, fmt.Errorf("record Stopping token %s of %s: %w", pipeline.TokenRef(j.alias), pipeline.TokenRef(j.record), err)
		}
		alias := a
		alias.By, alias.Fence = j.by+" (Stopping token of "+pipeline.TokenRef(j.record)+")", ""
		if err := markAnswered(ctx, tp.ledger, j.arn, j.alias, alias); err != nil {
			return res, err
		}
	}
	marked, err := tp.ledger.MarkAnswered(ctx, j.arn, j.record, a)
	var claimed *pipeline.ClaimedError
	var already *pipeline.AlreadyAnsweredError
	switch {
	case errors.As(err, &claimed), errors.As(err, &already):
		// The answer went out under a claim that lapsed meanwhile. Whoever
		// holds the token now finds SageMaker answered (step 4) and marks it.
		slog.WarnContext(ctx, "answered under a claim that lapsed; the new claimant records the answer", logging.KeyExecutionARN, j.arn.String(), logging.KeyError, err.Error())
	case err != nil:
		return res, fmt.Errorf("mark callback token answered: %w", err)
	default:
		res.record = marked
	}
	res.answered, res.outcome, res.flagged = true, ap.outcome(), ap.attention != ""
	if ap.attention != "" && failure != nil && !failure.refused && failure.kind != "" {
		// Answered although the cleanup failed: what the step started may
		// still run. The CleanupAbandoned alarm is on this.
		metrics.Default().Cleanup(ctx, failure.kind, metrics.CleanupAbandoned)
	}
	return res, nil
}

// claimOutcome turns a failed claim into the job's outcome: answered
// before is done; claimed by another attempt comes back when that claim
// has lapsed, to find the token answered or to take it over.
func (tp *tokenPath) claimOutcome(err error) (tokenResult, error) {
	var answered *pipeline.AlreadyAnsweredError
	var claimed *pipeline.ClaimedError
	switch {
	case errors.As(err, &answered):
		return tokenResult{duplicate: true, outcome: answered.Outcome}, nil
	case errors.As(err, &claimed):
		wait := max(claimed.ClaimUntil.Sub(tp.now())+claimSlack, time.Second)
		return tokenResult{}, &RetryError{After: wait, Err: err}
	}
	return tokenResult{}, err
}

// release gives up the claim so the retry need not wait out the lease,
// and returns why the job stopped.
func (tp *tokenPath) release(ctx context.Context, j tokenJob, fence string, why error) error {
	if err := tp.ledger.ReleaseToken(context.WithoutCancel(ctx), j.arn, j.record, fence); err != nil {
		return errors.Join(why, err)
	}
	return why
}

// send gives SageMaker the answer. SageMaker refusing it (Conflict: not
// waiting for a callback; NotFound: no such token) is believed only when
// the step's listing agrees that nothing waits for the token any more;
// otherwise it is an error to retry. The returned note says why no answer
// was needed.
func (tp *tokenPath) send(ctx context.Context, arn pipeline.ExecutionARN, send string, a answerPlan) (string, error) {
	var err error
	if a.succeed {
		params := outputParameters(a.outputs)
		_, err = tp.sm.SendPipelineExecutionStepSuccess(ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{
			CallbackToken:      aws.String(send),
			OutputParameters:   params,
			ClientRequestToken: aws.String(pipeline.RequestToken("step-success", send, fmt.Sprint(params))),
		})
	} else {
		reason := truncate(a.reason, pipeline.MaxReasonLength)
		_, err = tp.sm.SendPipelineExecutionStepFailure(ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
			CallbackToken:      aws.String(send),
			FailureReason:      aws.String(reason),
			ClientRequestToken: aws.String(pipeline.RequestToken("step-failure", send, reason)),
		})
	}
	if err == nil {
		return "", nil
	}
	if !refusedAnswer(err) {
		return "", fromSageMaker("answer callback token", pipeline.TokenRef(send), err)
	}
	steps, lerr := listSteps(ctx, tp.sm, arn)
	if lerr != nil {
		return "", errors.Join(fromSageMaker("answer callback token", send, err), lerr)
	}
	s, ok := stepOf(callbackSteps(steps), send)
	if ok && !s.status.Terminal() {
		return "", fmt.Errorf("answer callback token %s: SageMaker refused the answer but step %s still waits (%s): %w",
			pipeline.TokenRef(send), s.name, s.status, errors.Join(pipeline.Errorf(pipeline.EUnavailable, "SageMaker refused an answer its step still waits for"), err))
	}
	what := "its step has ended"
	if !ok {
		what = "no step of the execution holds it"
	}
	return truncate(fmt.Sprintf("SageMaker said the token needs no answer and %s (%v)", what, err), 512), nil
}

// markAnswered marks a token answered; answered before is as good.
func markAnswered(ctx context.Context, l Ledger, arn pipeline.ExecutionARN, token string, a pipeline.Answer) error {
	_, err := l.MarkAnswered(ctx, arn, token, a)
	var already *pipeline.AlreadyAnsweredError
	if err != nil && !errors.As(err, &already) {
		return fmt.Errorf("mark callback token %s answered: %w", pipeline.TokenRef(token), err)
	}
	return nil
}

// recordSkipped records each resource of the plan (or the step itself, when
// nothing was registered) as skipped, so the view shows a decision rather
// than a gap.
func (tp *tokenPath) recordSkipped(ctx context.Context, j tokenJob, rec pipeline.Token) error {
	skipped := rec.CleanupPlan
	if len(skipped) == 0 {
		skipped = []pipeline.Resource{{Kind: "step", ID: rec.StepName}}
	}
	now := tp.now()
	for _, r := range skipped {
		if _, err := tp.ledger.RecordCleanup(ctx, pipeline.CleanupResult{ARN: j.arn, Token: j.record, Resource: r, Status: pipeline.CleanupSkipped, Error: j.skip, At: now}); err != nil {
			return err
		}
	}
	return nil
}

// cleanupFailure is the first cleanup that failed, for the answer's reason
// and the attention flag.
type cleanupFailure struct {
	kind string
	what string // "sfn-execution arn:..."
	err  error
	// refused is a resource outside the cleanup scope: retrying cannot
	// change that, so the token is answered at once and flagged.
	refused bool
}

func (f *cleanupFailure) Error() string { return f.what + ": " + f.err.Error() }

// clean runs the cleaner of every resource in the plan that has not been
// cleaned yet, concurrently, each within the cleaner timeout, and records
// every attempt. Resources cleaned by an earlier attempt are skipped, so a
// retry repeats only what failed. It returns the first failure, or nil.
func (tp *tokenPath) clean(ctx context.Context, arn pipeline.ExecutionARN, token string, plan []pipeline.Resource, cc callback.Context, done []pipeline.Cleanup) *cleanupFailure {
	cleaned := map[string]bool{}
	for _, cl := range done {
		if cl.Token == token && cl.Status == pipeline.CleanupSucceeded {
			cleaned[cl.Resource.Key()] = true
		}
	}
	var todo []pipeline.Resource
	for _, r := range plan {
		if !cleaned[r.Key()] {
			todo = append(todo, r)
		}
	}
	if len(todo) == 1 {
		return tp.cleanOne(ctx, arn, token, todo[0], cc) // nothing to overlap
	}
	if len(todo) == 0 {
		return nil
	}
	failures := make([]*cleanupFailure, len(todo))
	var wg sync.WaitGroup
	for i, r := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			failures[i] = tp.cleanOne(ctx, arn, token, r, cc)
		}()
	}
	wg.Wait()
	// A failure worth retrying comes first: a refusal stays a refusal.
	var refused *cleanupFailure
	for _, f := range failures {
		switch {
		case f == nil:
		case !f.refused:
			return f
		case refused == nil:
			refused = f
		}
	}
	return refused
}

// cleanOne runs one cleaner and records the attempt. A failure to record
// counts as a failed cleanup: the ledger must show every attempt, and the
// retry will clean (harmlessly, cleaners treat "already stopped" as done)
// and record again.
func (tp *tokenPath) cleanOne(ctx context.Context, arn pipeline.ExecutionARN, token string, r pipeline.Resource, cc callback.Context) (failure *cleanupFailure) {
	what := r.Kind + " " + r.ID
	defer func() {
		// A cleaner is third-party-facing code; a panic in one must fail
		// that cleanup, not the whole batch.
		if p := recover(); p != nil {
			failure = &cleanupFailure{kind: r.Kind, what: what, err: fmt.Errorf("cleaner panicked: %v", p)}
		}
	}()
	start := tp.now()
	if err := tp.scope.Allows(r.Kind, pipeline.ScopeSubject(r)); err != nil {
		// Never acted on, never silently skipped: recorded with why.
		slog.WarnContext(ctx, "cleanup refused: outside the cleanup scope", logging.KeyExecutionARN, arn.String(), "kind", r.Kind, "resource", truncate(r.ID, 200), "registeredBy", r.RegisteredBy)
		result := pipeline.CleanupResult{ARN: arn, Token: token, Resource: r, Status: pipeline.CleanupRefused, Error: truncate(pipeline.Message(err), 1024), At: start}
		if _, rerr := tp.ledger.RecordCleanup(ctx, result); rerr != nil {
			return &cleanupFailure{kind: r.Kind, what: what, err: fmt.Errorf("record the refused cleanup: %w", rerr)}
		}
		metrics.Default().Cleanup(ctx, r.Kind, metrics.CleanupRefused)
		return &cleanupFailure{kind: r.Kind, what: what, err: err, refused: true}
	}
	cctx, cancel := context.WithTimeout(ctx, tp.cleanerTimeout)
	err := tp.cleanWith(cctx, r, cc)
	cancel()
	result := pipeline.CleanupResult{ARN: arn, Token: token, Resource: r, Status: pipeline.CleanupSucceeded, At: start, Duration: tp.now().Sub(start)}
	if err != nil {
		result.Status, result.Error = pipeline.CleanupFailed, truncate(err.Error(), 1024)
		failure = &cleanupFailure{kind: r.Kind, what: what, err: err}
		metrics.Default().Cleanup(ctx, r.Kind, metrics.CleanupFailed)
	} else {
		metrics.Default().Cleanup(ctx, r.Kind, metrics.CleanupSucceeded)
	}
	if _, rerr := tp.ledger.RecordCleanup(ctx, result); rerr != nil {
		slog.ErrorContext(ctx, "record cleanup", logging.KeyExecutionARN, arn.String(), "resource", r.Key(), logging.KeyError, rerr.Error())
		if failure == nil {
			failure = &cleanupFailure{kind: r.Kind, what: what, err: fmt.Errorf("record the cleanup: %w", rerr)}
		}
	}
	return failure
}

func (tp *tokenPath) cleanWith(ctx context.Context, r pipeline.Resource, cc callback.Context) error {
	if tp.cleaner == nil {
		return pipeline.Errorf(pipeline.EInternal, "no cleaners configured")
	}
	return tp.cleaner.Clean(ctx, r, cc)
}

// newFence is a value unique to one attempt at a token: copies of one SQS
// message share their MessageId, so it can never be that.
func newFence(by string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return truncate(by, 200) + "#" + hex.EncodeToString(b[:])
}

// outputParameters orders the outputs by name (a stable request, so the
// idempotent retry matches) and keeps at most the API's 50.
func outputParameters(outputs map[string]string) []smtypes.OutputParameter {
	names := make([]string, 0, len(outputs))
	for n := range outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) > 50 {
		names = names[:50]
	}
	params := make([]smtypes.OutputParameter, 0, len(names))
	for _, n := range names {
		params = append(params, smtypes.OutputParameter{Name: aws.String(n), Value: aws.String(outputs[n])})
	}
	return params
}

// stopReason is the reason of the stop under way (the earliest stop
// request SageMaker accepted and not closed), or the default.
func stopReason(v pipeline.View) string {
	var first *pipeline.StopRequest
	for i, s := range v.Stops {
		if s.Phase != pipeline.StopClosed && (first == nil || s.CreatedAt.Before(first.CreatedAt)) {
			first = &v.Stops[i]
		}
	}
	if first == nil || first.Reason == "" {
		return DefaultReason
	}
	return truncate(first.Reason, pipeline.MaxReasonLength)
}

// withCleanupFailure adds the cleanup failure to a reason within the
// 256 characters FailureReason allows, shortening the stop reason first so
// that the failure stays visible.
func withCleanupFailure(reason string, f *cleanupFailure) string {
	suffix := truncate("; cleanup failed: "+f.Error(), pipeline.MaxReasonLength*3/4)
	room := pipeline.MaxReasonLength - len([]rune(suffix))
	return truncate(reason, room) + suffix
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
