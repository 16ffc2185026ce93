package ledger_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// laggingIndex is DynamoDB Local behind a lookup index that has not caught
// up yet: the first queries of the index find nothing, as a global
// secondary index may right after a write.
type laggingIndex struct {
	ledger.API
	misses atomic.Int64
}

func (l *laggingIndex) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if in.IndexName != nil && *in.IndexName == ledger.LookupIndex && l.misses.Add(-1) >= 0 {
		return &dynamodb.QueryOutput{}, nil
	}
	return l.API.Query(ctx, in, opts...)
}

// TestGetStopRightAfterCreation (issue 11, defect 15): a stop read by id
// right after it was created is found although the index lags.
func TestGetStopRightAfterCreation(t *testing.T) {
	ctx := context.Background()
	client, table := dynamodblocal.ClientT(t)
	if err := ledger.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	lag := &laggingIndex{API: client}
	l := ledger.New(lag, table)
	arn := execARN(t, "lag1")
	stop, _, err := l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	lag.misses.Store(2)
	got, err := l.GetStop(ctx, stop.ID)
	if err != nil || got.ID != stop.ID {
		t.Fatalf("GetStop right after the create: %+v, %v; want the stop", got, err)
	}
	lag.misses.Store(100)
	if _, err := l.GetStop(ctx, stop.ID); !errors.Is(err, pipeline.ErrNotFound) {
		t.Fatalf("an id the index never finds: %v, want not found", err)
	}
}
