package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// maxMergeTries bounds the optimistic loop of a token merge. Only a worker
// and the callback consumer write a token's plan, so two tries almost
// always do; more than a few means something is wrong.
const maxMergeTries = 8

// AppendResources adds what a worker registered to a token's cleanup plan.
// It creates the token record when the start message has not been seen yet
// (the worker may be faster than the queue), and stores a resource once
// however often it is registered. A token already answered refuses with
// *AlreadyAnsweredError, and one whose cleanup is under way with
// *ClaimedError: either way the resource would never be cleaned, so the
// worker must stop what it just started itself.
func (l *Ledger) AppendResources(ctx context.Context, arn pipeline.ExecutionARN, token string, resources []pipeline.Resource) (pipeline.Token, error) {
	rec, _, err := l.mergeToken(ctx, arn, token, tokenPatch{resources: resources, refuseAnswered: true})
	if err != nil {
		return rec, wrap("append resources to callback token", pipeline.TokenRef(token), err)
	}
	return rec, nil
}

// CompleteToken records what a start message says about a token: it
// registers the token, or, when a worker's registration created the record
// first, fills in the step name and arguments and merges the plan. It
// reports whether this call created the record.
func (l *Ledger) CompleteToken(ctx context.Context, r pipeline.TokenRegistration) (pipeline.Token, bool, error) {
	rec, created, err := l.mergeToken(ctx, r.ARN, r.Token, tokenPatch{stepName: r.StepName, arguments: r.Arguments, resources: r.CleanupPlan})
	if err != nil {
		return rec, false, wrap("complete callback token", pipeline.TokenRef(r.Token), err)
	}
	return rec, created, nil
}

// FlagToken marks a token for a human's attention, with the reason.
func (l *Ledger) FlagToken(ctx context.Context, arn pipeline.ExecutionARN, token, why string) (pipeline.Token, error) {
	upd := expression.
		Set(expression.Name("attention"), expression.Value(true)).
		Set(expression.Name("attentionReason"), expression.Value(why))
	cond := expression.AttributeExists(expression.Name(SortKey))
	out, err := l.update(ctx, key(arn.String(), skTokenPrefix+token), upd, &cond)
	if _, failed := conditionFailed(err); failed {
		return pipeline.Token{}, wrap("flag callback token", pipeline.TokenRef(token), pipeline.ErrNotFound)
	}
	if err != nil {
		return pipeline.Token{}, wrap("flag callback token", pipeline.TokenRef(token), err)
	}
	var rec pipeline.Token
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(token), err)
	}
	return rec, nil
}

// tokenPatch is what a merge adds to a token record: fields only where the
// record has none, resources it lacks.
type tokenPatch struct {
	stepName       string
	arguments      map[string]any
	resources      []pipeline.Resource
	refuseAnswered bool
}

// mergeToken applies a patch with optimistic concurrency: read the record
// (strongly consistent), write the merge on condition that the plan still
// has the length that was read (a plan only grows, so the same length is
// the same plan), and try again when another writer came first.
func (l *Ledger) mergeToken(ctx context.Context, arn pipeline.ExecutionARN, token string, p tokenPatch) (pipeline.Token, bool, error) {
	if err := pipeline.ValidateCallbackToken(token); err != nil {
		return pipeline.Token{}, false, err
	}
	for range maxMergeTries {
		rec, err := l.GetToken(ctx, arn, token)
		if errors.Is(err, pipeline.ErrNotFound) {
			created, err := l.createToken(ctx, arn, token, p)
			if err != nil || created.Token != "" {
				return created, err == nil, err
			}
			continue // created by someone else a moment ago: merge into theirs
		}
		if err != nil {
			return pipeline.Token{}, false, err
		}
		if p.refuseAnswered && rec.State == pipeline.TokenAnswered {
			return rec, false, &pipeline.AlreadyAnsweredError{Token: token, AnsweredBy: rec.AnsweredBy, AnsweredAt: rec.AnsweredAt, Outcome: rec.Outcome}
		}
		// Once a delivery has claimed the token its cleanup is under way with
		// the plan it read: a resource added now would never be cleaned, so
		// the worker is told, and stops what it started itself.
		if p.refuseAnswered && rec.State == pipeline.TokenClaimed {
			return rec, false, &pipeline.ClaimedError{Token: token, ClaimedBy: rec.ClaimedBy, ClaimUntil: rec.ClaimUntil}
		}
		if p.refuseAnswered {
			if n := len(pipeline.MergePlan(rec.CleanupPlan, p.resources)); n > pipeline.MaxPlanLength {
				return rec, false, pipeline.Errorf(pipeline.EInvalid, "callback token %s would have %d resources to clean up; at most %d are allowed per token", pipeline.TokenRef(token), n, pipeline.MaxPlanLength)
			}
		}
		upd, changed := patchUpdate(rec, p)
		if !changed {
			return rec, false, nil
		}
		cond := samePlan(rec)
		if p.refuseAnswered {
			cond = cond.And(expression.Name("state").Equal(expression.Value(string(pipeline.TokenOpen))))
		}
		out, err := l.update(ctx, key(arn.String(), skTokenPrefix+token), upd, &cond)
		if _, failed := conditionFailed(err); failed {
			continue
		}
		if err != nil {
			return pipeline.Token{}, false, err
		}
		var merged pipeline.Token
		if err := unmarshal(out, &merged); err != nil {
			return pipeline.Token{}, false, err
		}
		return merged, false, nil
	}
	return pipeline.Token{}, false, pipeline.Errorf(pipeline.EConflict, "callback token %s is being changed by others; try again", pipeline.TokenRef(token))
}

// createToken creates the record from the patch; it returns an empty token
// when another writer created it first.
func (l *Ledger) createToken(ctx context.Context, arn pipeline.ExecutionARN, token string, p tokenPatch) (pipeline.Token, error) {
	rec := newToken(arn, token, p, l.now())
	rec.ExpiresAt = l.expiry(l.now())
	existing, err := l.createOnce(ctx, arn.String(), skTokenPrefix+token, rec, nil)
	if err != nil || existing != nil {
		return pipeline.Token{}, err
	}
	return rec, nil
}

// newToken is an open record made from a patch. Every token record
// expires after the retention, answered or not: a step that finished
// without stopcoord's answer must not keep its record forever.
func newToken(arn pipeline.ExecutionARN, token string, p tokenPatch, now time.Time) pipeline.Token {
	return pipeline.Token{
		ExecutionARN: arn.String(),
		Token:        token,
		StepName:     p.stepName,
		Arguments:    p.arguments,
		CleanupPlan:  pipeline.MergePlan(nil, p.resources),
		State:        pipeline.TokenOpen,
		RegisteredAt: now.UTC().Truncate(time.Millisecond),
	}
}

// samePlan is the condition that the record still has the plan that was
// read: a plan only grows, so the same length is the same plan.
func samePlan(rec pipeline.Token) expression.ConditionBuilder {
	plan := expression.Name("cleanupPlan")
	if len(rec.CleanupPlan) == 0 {
		return expression.AttributeExists(expression.Name(SortKey)).And(expression.Or(expression.AttributeNotExists(plan), expression.Size(plan).Equal(expression.Value(0))))
	}
	return expression.AttributeExists(expression.Name(SortKey)).And(expression.Size(plan).Equal(expression.Value(len(rec.CleanupPlan))))
}

func patchUpdate(rec pipeline.Token, p tokenPatch) (expression.UpdateBuilder, bool) {
	var upd expression.UpdateBuilder
	changed := false
	if merged := pipeline.MergePlan(rec.CleanupPlan, p.resources); len(merged) > len(rec.CleanupPlan) {
		upd, changed = upd.Set(expression.Name("cleanupPlan"), expression.Value(merged)), true
	}
	if rec.StepName == "" && p.stepName != "" {
		upd, changed = upd.Set(expression.Name("stepName"), expression.Value(p.stepName)), true
	}
	if len(rec.Arguments) == 0 && len(p.arguments) > 0 {
		upd, changed = upd.Set(expression.Name("arguments"), expression.Value(p.arguments)), true
	}
	return upd, changed
}
