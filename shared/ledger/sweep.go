package ledger

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// The sweeper's continuation lives in one small item of its own partition,
// apart from every execution's.
const (
	sweepPartition = "SWEEPER"
	sweepSort      = "CURSOR"
)

func sweepKey() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		PartitionKey: &types.AttributeValueMemberS{Value: sweepPartition},
		SortKey:      &types.AttributeValueMemberS{Value: sweepSort},
	}
}

// SweepCursor reads where the last sweeper run stopped: an opaque cursor
// ("" to start from the beginning) and its version, which SaveSweepCursor
// checks. Version 0 means nothing was saved yet.
func (l *Ledger) SweepCursor(ctx context.Context) (string, int64, error) {
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: sweepKey(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", 0, wrap("read", "sweeper cursor", err)
	}
	var rec struct {
		Cursor  string `dynamodbav:"cursor"`
		Version int64  `dynamodbav:"version"`
	}
	if out.Item != nil {
		if err := unmarshal(out.Item, &rec); err != nil {
			return "", 0, wrap("decode", "sweeper cursor", err)
		}
	}
	return rec.Cursor, rec.Version, nil
}

// SaveSweepCursor stores the cursor the next run resumes from, if the
// stored version is still the one the caller read. Two runs that overlap
// (a slow run and the next scheduled one) cannot both move the cursor:
// the loser gets ErrStale and its work is simply done again next pass.
func (l *Ledger) SaveSweepCursor(ctx context.Context, cursor string, readVersion int64) error {
	upd := expression.Set(expression.Name("cursor"), expression.Value(cursor)).
		Set(expression.Name("version"), expression.Value(readVersion+1)).
		Set(expression.Name("updatedAt"), expression.Value(millis(l.now())))
	cond := expression.Name("version").Equal(expression.Value(readVersion))
	if readVersion == 0 {
		cond = expression.AttributeNotExists(expression.Name("version")).Or(cond)
	}
	_, err := l.update(ctx, sweepKey(), upd, &cond)
	if _, failed := conditionFailed(err); failed {
		return wrap("save sweeper cursor at version", strconv.FormatInt(readVersion, 10), pipeline.ErrStale)
	}
	if err != nil {
		return wrap("save", "sweeper cursor", err)
	}
	return nil
}
