package ledger

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// RecordCleanup adds an attempt to the resource's cleanup record, creating
// it on the first, and returns the record with its attempt count.
func (l *Ledger) RecordCleanup(ctx context.Context, r pipeline.CleanupResult) (pipeline.Cleanup, error) {
	arn := r.ARN.String()
	subject := r.Token + " " + r.Resource.Key()
	at := r.At.UTC()
	attempt, err := marshal(pipeline.CleanupAttempt{At: at, Status: r.Status, Error: r.Error, Duration: r.Duration})
	if err != nil {
		return pipeline.Cleanup{}, wrap("encode cleanup of", subject, err)
	}
	history := expression.Name("history")
	upd := expression.
		Set(expression.Name("executionArn"), expression.Value(arn)).
		Set(expression.Name("token"), expression.Value(r.Token)).
		Set(expression.Name("resource"), expression.Value(r.Resource)).
		Set(expression.Name("status"), expression.Value(string(r.Status))).
		Set(expression.Name("lastAt"), expression.Value(millis(at))).
		Set(expression.Name("firstAt"), expression.IfNotExists(expression.Name("firstAt"), expression.Value(millis(at)))).
		Set(history, expression.ListAppend(expression.IfNotExists(history, expression.Value([]any{})), expression.Value([]any{raw{&types.AttributeValueMemberM{Value: attempt}}}))).
		Set(expression.Name(TTLAttribute), expression.Value(l.expiry(at))).
		Add(expression.Name("attempts"), expression.Value(1))
	if r.Error != "" {
		upd = upd.Set(expression.Name("lastError"), expression.Value(r.Error))
	} else {
		upd = upd.Remove(expression.Name("lastError"))
	}
	// No condition: every attempt is recorded, and one update both counts
	// it and appends it.
	out, err := l.update(ctx, key(arn, skCleanPrefix+r.Token+"#"+r.Resource.Key()), upd, nil)
	if err != nil {
		return pipeline.Cleanup{}, wrap("record cleanup of", subject, err)
	}
	var rec pipeline.Cleanup
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Cleanup{}, wrap("decode cleanup of", subject, err)
	}
	return rec, nil
}
