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
	}
	existing, err := l.createOnce(ctx, arn, skTokenPrefix+r.Token, rec, nil)
	if err != nil {
		return pipeline.Token{}, wrap("register callback token", r.Token, err)
	}
	if existing != nil {
		var prev pipeline.Token
		if err := unmarshal(existing, &prev); err != nil {
			return pipeline.Token{}, wrap("decode callback token", r.Token, err)
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
		return pipeline.Token{}, wrap("get callback token", token, err)
	}
	if out.Item == nil {
		return pipeline.Token{}, wrap("get callback token", token, pipeline.ErrNotFound)
	}
	var rec pipeline.Token
	if err := unmarshal(out.Item, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", token, err)
	}
	return rec, nil
}

// FindToken looks a token up by its value alone, through the lookup index.
// The index is eventually consistent: a token registered a moment ago may
// not be found yet; prefer GetToken when the execution is known.
func (l *Ledger) FindToken(ctx context.Context, token string) (pipeline.Token, error) {
	var rec pipeline.Token
	if err := l.lookup(ctx, skTokenPrefix+token, &rec); err != nil {
		return pipeline.Token{}, wrap("find callback token", token, err)
	}
	return rec, nil
}

// ClaimToken gives one worker the right to answer a token for the lease.
// It succeeds when the token is open, when the claimant already holds it,
// or when another claim has lapsed. Otherwise it returns *ClaimedError or
// *AlreadyAnsweredError.
func (l *Ledger) ClaimToken(ctx context.Context, arn pipeline.ExecutionARN, token, claimant string, lease time.Duration) (pipeline.Token, error) {
	now := l.now()
	upd := expression.
		Set(expression.Name("state"), expression.Value(string(pipeline.TokenClaimed))).
		Set(expression.Name("claimedBy"), expression.Value(claimant)).
		Set(expression.Name("claimUntil"), expression.Value(millis(now.Add(lease))))
	cond := expression.AttributeExists(expression.Name(SortKey)).And(
		expression.Name("state").Equal(expression.Value(string(pipeline.TokenOpen))).
			Or(expression.And(
				expression.Name("state").Equal(expression.Value(string(pipeline.TokenClaimed))),
				expression.Or(
					expression.Name("claimedBy").Equal(expression.Value(claimant)),
					expression.Name("claimUntil").LessThan(expression.Value(millis(now))),
				),
			)))
	out, err := l.update(ctx, key(arn.String(), skTokenPrefix+token), upd, &cond)
	if old, failed := conditionFailed(err); failed {
		return l.tokenConflict(old, token, "claim")
	}
	if err != nil {
		return pipeline.Token{}, wrap("claim callback token", token, err)
	}
	var rec pipeline.Token
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", token, err)
	}
	return rec, nil
}

// MarkAnswered records that a token was answered. Exactly one call per
// token succeeds; every later one returns *AlreadyAnsweredError naming the
// first.
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
	cond := expression.AttributeExists(expression.Name(SortKey)).
		And(expression.Name("state").NotEqual(expression.Value(string(pipeline.TokenAnswered))))
	out, err := l.update(ctx, key(arn.String(), skTokenPrefix+token), upd, &cond)
	if old, failed := conditionFailed(err); failed {
		return l.tokenConflict(old, token, "mark answered")
	}
	if err != nil {
		return pipeline.Token{}, wrap("mark callback token answered", token, err)
	}
	var rec pipeline.Token
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", token, err)
	}
	return rec, nil
}

// tokenConflict explains a failed token condition from the item as it was.
func (l *Ledger) tokenConflict(old map[string]types.AttributeValue, token, action string) (pipeline.Token, error) {
	if old == nil {
		return pipeline.Token{}, wrap(action+" callback token", token, pipeline.ErrNotFound)
	}
	var rec pipeline.Token
	if err := unmarshal(old, &rec); err != nil {
		return pipeline.Token{}, wrap("decode callback token", token, err)
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
