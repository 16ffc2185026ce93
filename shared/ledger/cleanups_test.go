package ledger_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// errLostResponse is a response lost on its way back: DynamoDB applied the
// write, the client saw a failure and sent the same request again, as the
// SDK does after a timeout.
var errLostResponse = errors.New("response lost after the write was applied")

// loseFirstResponse makes a client that loses the response of the first
// UpdateItem it sends, then retries it.
func loseFirstResponse(client *dynamodb.Client) *dynamodb.Client {
	var lost atomic.Bool
	return dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				if errors.Is(err, errLostResponse) {
					return aws.TrueTernary
				}
				return aws.UnknownTernary
			})}, so.Retryables...)
		})
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("LoseFirstResponse",
				func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleDeserialize(ctx, in)
					if err == nil && middleware.GetOperationName(ctx) == "UpdateItem" && lost.CompareAndSwap(false, true) {
						return out, md, errLostResponse
					}
					return out, md, err
				}), middleware.After)
		})
	})
}

// A cleanup attempt whose write the SDK sends twice (the first response
// was lost) is one attempt in the record, not two.
func TestRecordCleanupCountsARetriedRequestOnce(t *testing.T) {
	ctx := context.Background()
	client, table := dynamodblocal.ClientT(t)
	if err := ledger.CreateTable(ctx, client, table); err != nil {
		t.Fatal(err)
	}
	l := ledger.New(loseFirstResponse(client), table)
	arn := execARN(t, "cln3")
	r := pipeline.CleanupResult{ARN: arn, Token: "Clean00003", Resource: pipeline.Resource{Kind: pipeline.ResourceSFNExecution, ID: "arn:sfn"},
		Status: pipeline.CleanupFailed, Error: "still running", At: t0}
	rec, err := l.RecordCleanup(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Attempts != 1 || len(rec.History) != 1 {
		t.Fatalf("after one attempt sent twice: attempts=%d history=%d, want 1 and 1", rec.Attempts, len(rec.History))
	}
	// The next attempt still counts.
	r.At, r.Status, r.Error = t0.Add(9*time.Second), pipeline.CleanupSucceeded, ""
	if rec, err = l.RecordCleanup(ctx, r); err != nil || rec.Attempts != 2 || len(rec.History) != 2 || rec.Status != pipeline.CleanupSucceeded {
		t.Fatalf("second attempt: %+v, %v", rec, err)
	}
}
