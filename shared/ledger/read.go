package ledger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// ReadExecution reads everything recorded about an execution with one
// strongly consistent Query (paged only when the partition is over 1 MB).
func (l *Ledger) ReadExecution(ctx context.Context, arn pipeline.ExecutionARN) (pipeline.View, error) {
	var view pipeline.View
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(l.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": PartitionKey},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: execPrefix + arn.String()}},
		ConsistentRead:            aws.Bool(true),
	}
	p := dynamodb.NewQueryPaginator(l.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return pipeline.View{}, wrap("read execution", arn.String(), err)
		}
		for _, item := range page.Items {
			if err := addToView(&view, item); err != nil {
				return pipeline.View{}, wrap("decode ledger item of", arn.String(), err)
			}
		}
	}
	return view, nil
}

func addToView(v *pipeline.View, item map[string]types.AttributeValue) error {
	sk, _ := item[SortKey].(*types.AttributeValueMemberS)
	if sk == nil {
		return nil
	}
	switch s := sk.Value; {
	case s == skExecution:
		var e pipeline.Execution
		if err := unmarshal(item, &e); err != nil {
			return err
		}
		v.Execution = &e
	case strings.HasPrefix(s, skStepPrefix):
		return appendDecoded(item, &v.Steps)
	case strings.HasPrefix(s, skTokenPrefix):
		return appendDecoded(item, &v.Tokens)
	case strings.HasPrefix(s, skCleanPrefix):
		return appendDecoded(item, &v.Cleanups)
	case strings.HasPrefix(s, skStopPrefix):
		return appendDecoded(item, &v.Stops)
	}
	return nil
}

func appendDecoded[T any](item map[string]types.AttributeValue, into *[]T) error {
	var rec T
	if err := unmarshal(item, &rec); err != nil {
		return err
	}
	*into = append(*into, rec)
	return nil
}

// sparseIndex is one of the ledger's sparse execution indexes: a single
// partition ordered by a millisecond time.
type sparseIndex struct {
	name, shardAttr, sinceAttr, shard string
}

var (
	stoppingIdx = sparseIndex{StoppingIndex, StoppingShard, StoppingSince, stoppingShardValue}
	activeIdx   = sparseIndex{ActiveIndex, ActiveShard, ActiveSince, activeShardValue}
)

// ListStopping lists executions that entered Stopping at or before the
// cutoff, oldest first, at most limit per page. Pass the previous page's
// Cursor to continue.
func (l *Ledger) ListStopping(ctx context.Context, cutoff time.Time, limit int32, cursor string) (pipeline.ExecutionPage, error) {
	return l.list(ctx, stoppingIdx, cutoff, limit, cursor)
}

// ListActive lists executions that are not terminal and started at or
// before the cutoff, oldest first, at most limit per page: what the sweeper
// reconciles and checks against each pipeline's maximum runtime.
func (l *Ledger) ListActive(ctx context.Context, cutoff time.Time, limit int32, cursor string) (pipeline.ExecutionPage, error) {
	return l.list(ctx, activeIdx, cutoff, limit, cursor)
}

func (l *Ledger) list(ctx context.Context, idx sparseIndex, cutoff time.Time, limit int32, cursor string) (pipeline.ExecutionPage, error) {
	out, err := l.queryIndex(ctx, idx, "executions", cutoff, limit, cursor)
	if err != nil {
		return pipeline.ExecutionPage{}, err
	}
	page := pipeline.ExecutionPage{Executions: make([]pipeline.Execution, 0, len(out.Items)), After: make([]string, 0, len(out.Items))}
	for _, item := range out.Items {
		if err := appendDecoded(item, &page.Executions); err != nil {
			return pipeline.ExecutionPage{}, wrap("decode execution from index", idx.name, err)
		}
		// An item's own key is the exclusive start key right after it.
		page.After = append(page.After, idx.encodeCursor(item))
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.Cursor = idx.encodeCursor(out.LastEvaluatedKey)
	}
	return page, nil
}

// queryIndex reads one page of a sparse index: the items whose time is at
// or before the cutoff, oldest first, from the cursor on. A cursor of
// another index is refused as invalid; a failed query is wrapped as
// listing what the index holds.
func (l *Ledger) queryIndex(ctx context.Context, idx sparseIndex, what string, cutoff time.Time, limit int32, cursor string) (*dynamodb.QueryOutput, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(l.table),
		IndexName:              aws.String(idx.name),
		KeyConditionExpression: aws.String("#shard = :shard AND #since <= :cutoff"),
		ExpressionAttributeNames: map[string]string{
			"#shard": idx.shardAttr,
			"#since": idx.sinceAttr,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":shard":  &types.AttributeValueMemberS{Value: idx.shard},
			":cutoff": &types.AttributeValueMemberN{Value: strconv.FormatInt(millis(cutoff), 10)},
		},
		Limit: aws.Int32(limit),
	}
	if cursor != "" {
		start, err := idx.decodeCursor(cursor)
		if err != nil {
			return nil, err
		}
		in.ExclusiveStartKey = start
	}
	out, err := l.client.Query(ctx, in)
	if err != nil {
		return nil, wrap("list "+what+" in index", idx.name, err)
	}
	return out, nil
}

// A cursor is the index's last evaluated key: the table key and the index
// key, all strings but the millisecond timestamp. It names its index, so a
// cursor of one listing is refused by the other.
type cursorKey struct {
	Index string `json:"i"`
	PK    string `json:"p"`
	SK    string `json:"s"`
	Since string `json:"t"`
}

func (idx sparseIndex) encodeCursor(k map[string]types.AttributeValue) string {
	str := func(name string) string {
		switch v := k[name].(type) {
		case *types.AttributeValueMemberS:
			return v.Value
		case *types.AttributeValueMemberN:
			return v.Value
		}
		return ""
	}
	b, _ := json.Marshal(cursorKey{Index: idx.name, PK: str(PartitionKey), SK: str(SortKey), Since: str(idx.sinceAttr)})
	return base64.RawURLEncoding.EncodeToString(b)
}

func (idx sparseIndex) decodeCursor(s string) (map[string]types.AttributeValue, error) {
	invalid := pipeline.Errorf(pipeline.EInvalid, "cursor is not one this listing returned")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, invalid
	}
	var c cursorKey
	if err := json.Unmarshal(b, &c); err != nil || c.Index != idx.name || c.PK == "" || c.SK == "" {
		return nil, invalid
	}
	if _, err := strconv.ParseInt(c.Since, 10, 64); err != nil {
		return nil, invalid
	}
	return map[string]types.AttributeValue{
		PartitionKey:  &types.AttributeValueMemberS{Value: c.PK},
		SortKey:       &types.AttributeValueMemberS{Value: c.SK},
		idx.shardAttr: &types.AttributeValueMemberS{Value: idx.shard},
		idx.sinceAttr: &types.AttributeValueMemberN{Value: c.Since},
	}, nil
}
