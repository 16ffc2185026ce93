package ledger

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Rejected callback messages live in one partition per UTC day,
// "REJECTED#2026-11-25", keyed by message id: a malformed message has no
// execution to file it under, and a day is what an operator asks for.
const rejectedPrefix = "REJECTED#"

func rejectedPK(at time.Time) string { return rejectedPrefix + at.UTC().Format(time.DateOnly) }

// RecordRejection keeps a callback message that could not be acted on, with
// why. Each delivery of the same message overwrites the last, so the record
// shows the latest receive count; it expires with the ledger's retention.
func (l *Ledger) RecordRejection(ctx context.Context, r pipeline.Rejection) error {
	r.At = r.At.UTC()
	if r.At.IsZero() {
		r.At = l.now().UTC()
	}
	r.Excerpt = pipeline.Excerpt(r.Excerpt)
	item, err := marshal(r)
	if err != nil {
		return wrap("encode rejected message", r.MessageID, err)
	}
	item[PartitionKey] = &types.AttributeValueMemberS{Value: rejectedPK(r.At)}
	item[SortKey] = &types.AttributeValueMemberS{Value: r.MessageID}
	ttl, err := marshal(struct {
		ExpiresAt int64 `dynamodbav:"expiresAt"`
	}{l.expiry(r.At)})
	if err != nil {
		return wrap("encode rejected message", r.MessageID, err)
	}
	item[TTLAttribute] = ttl[TTLAttribute]
	if _, err := l.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(l.table), Item: item}); err != nil {
		return wrap("record rejected message", r.MessageID, err)
	}
	return nil
}

// ListRejections lists the messages rejected on the UTC day of day.
func (l *Ledger) ListRejections(ctx context.Context, day time.Time) ([]pipeline.Rejection, error) {
	pk := rejectedPK(day)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
		ConsistentRead:            aws.Bool(true),
	}
	var out []pipeline.Rejection
	p := dynamodb.NewQueryPaginator(l.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap("list rejected messages of", pk, err)
		}
		for _, item := range page.Items {
			if err := appendDecoded(item, &out); err != nil {
				return nil, wrap("decode rejected message of", pk, err)
			}
		}
	}
	return out, nil
}
