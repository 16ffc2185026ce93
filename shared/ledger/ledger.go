// Package ledger is stopcoord's durable record of pipeline executions, their
// steps, callback tokens, cleanup results and stop requests, kept in one
// DynamoDB table. Writes whose order or uniqueness matters are conditional,
// so duplicate and out-of-order deliveries are detected and reported, never
// silently applied. Each operation is a single DynamoDB round trip, except
// reads that page and the token merges (CompleteToken, AppendResources),
// which read the record and then write it conditionally: two round trips,
// and more under contention. BenchmarkRoundTrips reports every operation's
// count.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of the DynamoDB client the ledger uses;
// *dynamodb.Client satisfies it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// DefaultRetention is how long finished records are kept before TTL may
// delete them.
const DefaultRetention = 90 * 24 * time.Hour

// Ledger reads and writes one ledger table.
type Ledger struct {
	client    API
	table     string
	retention time.Duration
	now       func() time.Time
}

// Option configures a Ledger.
type Option func(*Ledger)

// WithRetention sets how long finished records are kept.
func WithRetention(d time.Duration) Option { return func(l *Ledger) { l.retention = d } }

// WithClock sets the clock used for record times that the caller does not
// give (registration, answers, claims).
func WithClock(now func() time.Time) Option { return func(l *Ledger) { l.now = now } }

// New returns a Ledger over the table, using the injected client.
func New(client API, table string, opts ...Option) *Ledger {
	l := &Ledger{client: client, table: table, retention: DefaultRetention, now: time.Now}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Item key prefixes.
const (
	execPrefix    = "EXEC#"
	skExecution   = "EXECUTION"
	skStepPrefix  = "STEP#"
	skTokenPrefix = "TOKEN#"
	skCleanPrefix = "CLEANUP#"
	skStopPrefix  = "STOP#"
)

func key(executionARN, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		PartitionKey: &types.AttributeValueMemberS{Value: execPrefix + executionARN},
		SortKey:      &types.AttributeValueMemberS{Value: sk},
	}
}

// Times are stored as epoch milliseconds: sortable, comparable in condition
// expressions, and fine enough for the emulator's scaled clock.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func (l *Ledger) expiry(from time.Time) int64 { return from.Add(l.retention).Unix() }

func encodeTime(t time.Time) (types.AttributeValue, error) {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(millis(t), 10)}, nil
}

func decodeTimeN(n string) (time.Time, error) {
	ms, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if ms == 0 {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms).UTC(), nil
}

func marshal(v any) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.EncodeTime = encodeTime })
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(item, v, func(o *attributevalue.DecoderOptions) {
		o.DecodeTime.N = decodeTimeN
	})
}

// conditionFailed reports whether err is a failed condition and, if so, the
// item as it was (nil when there was none).
func conditionFailed(err error) (map[string]types.AttributeValue, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item, true
	}
	return nil, false
}

func wrap(action, subject string, err error) error {
	return fmt.Errorf("%s %s: %w", action, subject, err)
}

func ptr[T any](v T) *T { return &v }

// raw passes an already encoded attribute value through the expression
// builder, which would otherwise re-encode it with default options.
type raw struct{ av types.AttributeValue }

func (r raw) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) { return r.av, nil }

// createOnce writes rec as the item (arn, sk), findable in the lookup index
// by sk, unless that item exists. It returns the existing item, or nil when
// this call created it: one round trip either way.
func (l *Ledger) createOnce(ctx context.Context, arn, sk string, rec any, extra map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	item, err := marshal(rec)
	if err != nil {
		return nil, err
	}
	for k, v := range key(arn, sk) {
		item[k] = v
	}
	item[LookupKey] = &types.AttributeValueMemberS{Value: sk}
	for k, v := range extra {
		item[k] = v
	}
	_, err = l.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(l.table),
		Item:                                item,
		ConditionExpression:                 aws.String("attribute_not_exists(" + SortKey + ")"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if old, failed := conditionFailed(err); failed {
		return old, nil
	}
	return nil, err
}
