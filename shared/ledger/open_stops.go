package ledger

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// OpenStopsIndex lists stop requests that are not closed, by when they were
// requested: what `stopcoord stops --stuck` reads. Sparse: a stop request
// carries the two attributes from CreateStop until CloseStop removes them,
// so the index holds only open stops and a listing costs what it returns,
// not what the table holds. (Stop requests recorded before the index
// existed do not carry them and are not listed.)
const (
	OpenStopsIndex = "openStops"
	OpenStopShard  = "openStopShard"
	OpenStopSince  = "openStopSince"
)

// Few stops are open at once, so one partition keeps the listing a single
// ordered Query, as the other sparse indexes do.
const openStopShardValue = "OPEN"

var openStopsIdx = sparseIndex{OpenStopsIndex, OpenStopShard, OpenStopSince, openStopShardValue}

// openStopAttributes put a new stop request into the open-stops index.
func openStopAttributes(createdAt time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		OpenStopShard: &types.AttributeValueMemberS{Value: openStopShardValue},
		OpenStopSince: &types.AttributeValueMemberN{Value: strconv.FormatInt(millis(createdAt), 10)},
	}
}

// leaveOpenStops takes a closing stop request out of the open-stops index.
func leaveOpenStops(upd expression.UpdateBuilder) expression.UpdateBuilder {
	return upd.Remove(expression.Name(OpenStopShard)).Remove(expression.Name(OpenStopSince))
}

// ListOpenStops lists stop requests not yet closed that were requested at
// or before the cutoff, oldest first, at most limit per page. It returns
// the cursor of the next page, empty on the last; pass it back to
// continue. A cursor of another listing is refused as invalid.
func (l *Ledger) ListOpenStops(ctx context.Context, cutoff time.Time, limit int32, cursor string) ([]pipeline.StopRequest, string, error) {
	idx := openStopsIdx
	out, err := l.queryIndex(ctx, idx, "open stops", cutoff, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	stops := make([]pipeline.StopRequest, 0, len(out.Items))
	for _, item := range out.Items {
		if err := appendDecoded(item, &stops); err != nil {
			return nil, "", wrap("decode stop request from index", idx.name, err)
		}
	}
	next := ""
	if len(out.LastEvaluatedKey) > 0 {
		next = idx.encodeCursor(out.LastEvaluatedKey)
	}
	return stops, next, nil
}
