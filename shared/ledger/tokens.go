package ledger

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// RegisterToken records a callback token once. A second registration of the
// same token returns ErrDuplicate with the record as it stands.
func (l *Ledger) RegisterToken(ctx context.Context, r pipeline.TokenRegistration) (pipeline.Token, error) {
	arn := r.ARN.String()
	if err := pipeline.ValidateCallbackToken(r.Token); err != nil {
		return pipeline.Token{}, wrap("register callback token for", arn, err)
	}
	rec := pipeline.Token{
		ExecutionARN: arn,
		Token:        r.Token,
		StepName:     r.StepName,
		Arguments:    r.Arguments,
		CleanupPlan:  r.CleanupPlan,
		State:        pipeline.TokenOpen,
		RegisteredAt: l.now().UTC().Truncate(time.Millisecond),
		ExpiresAt:    l.expiry(l.now()),
	}
	existing, err := l.createOnce(ctx, arn, skTokenPrefix+r.Token, rec, nil)
	if err != nil {
		return pipeline.Token{}, wrap("register callback token", pipeline.TokenRef(r.Token), err)
	}
	if existing != nil {
		var prev pipeline.Token
		if err := unmarshal(existing, &prev); err != nil {
			return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(r.Token), err)
		}
		return prev, pipeline.ErrDuplicate
	}
	return rec, nil
}

// GetToken reads a token of a known execution, strongly consistent.
func (l *Ledger) GetToken(ctx context.Context, arn pipeline.ExecutionARN, token string) (pipeline.Token, error) {
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(l.table),
		Key:            key(arn.String(), skTokenPrefix+token),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return pipeline.Token{}, wrap("get callback token", pipeline.TokenRef(token), err)
	}
	if out.Item == nil {
		return pipeline.Token{}, wrap("get callback token", pipeline.TokenRef(token), pipeline.ErrNotFound)
	}
	var rec pipeline.Token
	if err := unmarshal(out.Item, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(token), err)
	}
	return rec, nil
}

// FindToken looks a token up by its value alone, through the lookup index.
// The index is eventually consistent: a token registered a moment ago may
// not be found yet; prefer GetToken when the execution is known.
func (l *Ledger) FindToken(ctx context.Context, token string) (pipeline.Token, error) {
	var rec pipeline.Token
	if err := l.lookup(ctx, skTokenPrefix+token, &rec); err != nil {
		return pipeline.Token{}, wrap("find callback token", pipeline.TokenRef(token), err)
	}
	return rec, nil
}

// ClaimToken gives one claimant the right to clean up and answer a token
// for the lease, in one conditional write: it succeeds when the token is
// open, when the claim's own fence already holds it, or when another claim
// has lapsed, and creates the record when there is none. What the claim
// knows of the step (name, arguments, plan) is merged into the same write.
// Otherwise it returns *ClaimedError or *AlreadyAnsweredError. A record
// that changed since the claimant read it costs one more write, with the
// item the failed condition returned, never another read.
func (l *Ledger) ClaimToken(ctx context.Context, c pipeline.TokenClaim) (pipeline.Token, error) {
	if err := pipeline.ValidateCallbackToken(c.Token); err != nil {
		return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(c.Token), err)
	}
	if c.Fence == "" {
		return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(c.Token), pipeline.Errorf(pipeline.EInvalid, "a claim needs a fence"))
	}
	known := c.Known
	patch := tokenPatch{stepName: c.StepName, arguments: c.Arguments, resources: c.Plan}
	for range maxMergeTries {
		now := l.now()
		until := now.Add(c.Lease).UTC().Truncate(time.Millisecond)
		if known == nil {
			rec := newToken(c.ARN, c.Token, patch, now)
			rec.State, rec.ClaimedBy, rec.ClaimUntil = pipeline.TokenClaimed, c.Fence, until
			rec.ExpiresAt = l.expiry(now)
			existing, err := l.createOnce(ctx, c.ARN.String(), skTokenPrefix+c.Token, rec, nil)
			if err != nil {
				return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(c.Token), err)
			}
			if existing == nil {
				return rec, nil
			}
			if known, err = decodeToken(existing); err != nil {
				return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(c.Token), err)
			}
			continue
		}
		if err := claimRefusal(*known, c.Token, c.Fence, now); err != nil {
			return *known, err
		}
		upd, _ := patchUpdate(*known, patch)
		upd = setClaim(upd, c.Fence, until)
		cond := samePlan(*known).And(claimableBy(c.Fence, now))
		out, err := l.update(ctx, key(c.ARN.String(), skTokenPrefix+c.Token), upd, &cond)
		if old, failed := conditionFailed(err); failed {
			if old == nil {
				known = nil // deleted meanwhile (TTL): create it again
				continue
			}
			if known, err = decodeToken(old); err != nil {
				return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(c.Token), err)
			}
			continue
		}
		if err != nil {
			return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(c.Token), err)
		}
		rec, err := decodeToken(out)
		if err != nil {
			return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(c.Token), err)
		}
		return *rec, nil
	}
	return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(c.Token), pipeline.Errorf(pipeline.EConflict, "callback token %s is being changed by others; try again", pipeline.TokenRef(c.Token)))
}

// ClaimExisting claims a token whose record is already under the
// execution, without reading it first: one conditional write that holds
// where ClaimToken's does (open, held by the same fence, or a lapsed
// claim) and merges nothing. It returns pipeline.ErrNotFound when the
// execution has no record of the token, and *ClaimedError or
// *AlreadyAnsweredError as ClaimToken does. A Stopping message's token is
// nearly always the one its start message registered, so the callback
// function claims it this way while it reads the execution, instead of
// after.
func (l *Ledger) ClaimExisting(ctx context.Context, arn pipeline.ExecutionARN, token, fence string, lease time.Duration) (pipeline.Token, error) {
	if err := pipeline.ValidateCallbackToken(token); err != nil {
		return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(token), err)
	}
	if fence == "" {
		return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(token), pipeline.Errorf(pipeline.EInvalid, "a claim needs a fence"))
	}
	now := l.now()
	until := now.Add(lease).UTC().Truncate(time.Millisecond)
	upd := setClaim(expression.UpdateBuilder{}, fence, until)
	cond := expression.AttributeExists(expression.Name(SortKey)).And(claimableBy(fence, now))
	out, err := l.update(ctx, key(arn.String(), skTokenPrefix+token), upd, &cond)
	if old, failed := conditionFailed(err); failed {
		if old == nil {
			return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(token), pipeline.ErrNotFound)
		}
		known, err := decodeToken(old)
		if err != nil {
			return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(token), err)
		}
		if err := claimRefusal(*known, token, fence, now); err != nil {
			return *known, err
		}
		return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(token), pipeline.Errorf(pipeline.EConflict, "callback token %s is in state %q; try again", pipeline.TokenRef(token), known.State))
	}
	if err != nil {
		return pipeline.Token{}, wrap("claim callback token", pipeline.TokenRef(token), err)
	}
	rec, err := decodeToken(out)
	if err != nil {
		return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(token), err)
	}
	return *rec, nil
}

// claimableBy is the condition under which fence may claim a token at
// now: it is open, fence holds it already, or another claim has lapsed.
func claimableBy(fence string, now time.Time) expression.ConditionBuilder {
	return expression.Name("state").Equal(expression.Value(string(pipeline.TokenOpen))).
		Or(expression.And(
			expression.Name("state").Equal(expression.Value(string(pipeline.TokenClaimed))),
			expression.Or(
				expression.Name("claimedBy").Equal(expression.Value(fence)),
				expression.Name("claimUntil").LessThan(expression.Value(millis(now))),
			),
		))
}

// setClaim adds fence's claim, held until until, to upd.
func setClaim(upd expression.UpdateBuilder, fence string, until time.Time) expression.UpdateBuilder {
	return upd.Set(expression.Name("state"), expression.Value(string(pipeline.TokenClaimed))).
		Set(expression.Name("claimedBy"), expression.Value(fence)).
		Set(expression.Name("claimUntil"), expression.Value(millis(until)))
}

// claimRefusal is why fence may not claim token, whose record is rec, at now, as
// claimableBy decides it: answered, or held by a claim that has not
// lapsed; nil when it may.
func claimRefusal(rec pipeline.Token, token, fence string, now time.Time) error {
	switch {
	case rec.State == pipeline.TokenAnswered:
		return &pipeline.AlreadyAnsweredError{Token: token, AnsweredBy: rec.AnsweredBy, AnsweredAt: rec.AnsweredAt, Outcome: rec.Outcome}
	case rec.State == pipeline.TokenClaimed && rec.ClaimedBy != fence && !rec.ClaimUntil.Before(now):
		return &pipeline.ClaimedError{Token: token, ClaimedBy: rec.ClaimedBy, ClaimUntil: rec.ClaimUntil}
	}
	return nil
}

// ReleaseToken gives up a claim, so the next delivery may claim the token
// at once instead of waiting out the lease. Only the claim's own fence
// releases it; a claim lost or answered since is left as it is.
func (l *Ledger) ReleaseToken(ctx context.Context, arn pipeline.ExecutionARN, token, fence string) error {
	upd := expression.Set(expression.Name("state"), expression.Value(string(pipeline.TokenOpen))).
		Remove(expression.Name("claimedBy")).Remove(expression.Name("claimUntil"))
	cond := expression.Name("state").Equal(expression.Value(string(pipeline.TokenClaimed))).
		And(expression.Name("claimedBy").Equal(expression.Value(fence)))
	_, err := l.update(ctx, key(arn.String(), skTokenPrefix+token), upd, &cond)
	if _, failed := conditionFailed(err); failed {
		return nil
	}
	if err != nil {
		return wrap("release callback token", pipeline.TokenRef(token), err)
	}
	return nil
}

// MarkAnswered records that a token was answered. Exactly one call per
// token succeeds; every later one returns *AlreadyAnsweredError naming the
// first. With a fence, the mark is refused with *ClaimedError when the
// claim is no longer that fence's. An attention reason flags the token in
// the same write.
func (l *Ledger) MarkAnswered(ctx context.Context, arn pipeline.ExecutionARN, token string, a pipeline.Answer) (pipeline.Token, error) {
	now := l.now()
	upd := expression.
		Set(expression.Name("state"), expression.Value(string(pipeline.TokenAnswered))).
		Set(expression.Name("answeredBy"), expression.Value(a.By)).
		Set(expression.Name("answeredAt"), expression.Value(millis(now))).
		Set(expression.Name("outcome"), expression.Value(string(a.Outcome))).
		Set(expression.Name(TTLAttribute), expression.Value(l.expiry(now))).
		Remove(expression.Name("claimUntil"))
	if a.Reason != "" {
		upd = upd.Set(expression.Name("reason"), expression.Value(a.Reason))
	}
	if a.Attention != "" {
		upd = upd.Set(expression.Name("attention"), expression.Value(true)).
			Set(expression.Name("attentionReason"), expression.Value(a.Attention))
	}
	cond := expression.AttributeExists(expression.Name(SortKey)).
		And(expression.Name("state").NotEqual(expression.Value(string(pipeline.TokenAnswered))))
	if a.Fence != "" {
		cond = cond.And(expression.Name("claimedBy").Equal(expression.Value(a.Fence)))
	}
	out, err := l.update(ctx, key(arn.String(), skTokenPrefix+token), upd, &cond)
	if old, failed := conditionFailed(err); failed {
		return l.tokenConflict(old, token, "mark answered")
	}
	if err != nil {
		return pipeline.Token{}, wrap("mark callback token answered", pipeline.TokenRef(token), err)
	}
	var rec pipeline.Token
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(token), err)
	}
	return rec, nil
}

func decodeToken(item map[string]types.AttributeValue) (*pipeline.Token, error) {
	var rec pipeline.Token
	if err := unmarshal(item, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

// tokenConflict explains a failed token condition from the item as it was.
func (l *Ledger) tokenConflict(old map[string]types.AttributeValue, token, action string) (pipeline.Token, error) {
	if old == nil {
		return pipeline.Token{}, wrap(action+" callback token", pipeline.TokenRef(token), pipeline.ErrNotFound)
	}
	var rec pipeline.Token
	if err := unmarshal(old, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", pipeline.TokenRef(token), err)
	}
	if rec.State == pipeline.TokenAnswered {
		return rec, &pipeline.AlreadyAnsweredError{Token: token, AnsweredBy: rec.AnsweredBy, AnsweredAt: rec.AnsweredAt, Outcome: rec.Outcome}
	}
	return rec, &pipeline.ClaimedError{Token: token, ClaimedBy: rec.ClaimedBy, ClaimUntil: rec.ClaimUntil}
}

// lookup reads the one item with the lookup key into v.
func (l *Ledger) lookup(ctx context.Context, lookupKey string, v any) error {
	out, err := l.client.Query(ctx, &dynamodb.QueryInput{
		TableName:              aws.String(l.table),
		IndexName:              aws.String(LookupIndex),
		KeyConditionExpression: aws.String("#k = :k"),
		ExpressionAttributeNames: map[string]string{
			"#k": LookupKey,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":k": &types.AttributeValueMemberS{Value: lookupKey},
		},
		Limit: aws.Int32(1),
	})
	if err != nil {
		return err
	}
	if len(out.Items) == 0 {
		return pipeline.ErrNotFound
	}
	return unmarshal(out.Items[0], v)
}
