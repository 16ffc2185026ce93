package coordinator_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/middleware"

	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// roundTrips counts the DynamoDB requests a client sends.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) ID() string { return "countRoundTrips" }

func (r *roundTrips) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	r.n.Add(1)
	return next.HandleFinalize(ctx, in)
}

// TestRoundTripsPerStoppingMessage counts the ledger's DynamoDB round trips
// for one Stopping message of a registered step with one resource to clean:
// before the first cleaner runs, and in all. It logs them (the figures in
// the README and the issue notes come from here) and holds the first to
// one read and one claim.
func TestRoundTripsPerStoppingMessage(t *testing.T) {
	b := testbed.New(t)
	trips := &roundTrips{}
	client := dynamodb.New(b.DynamoDB.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Finalize.Add(trips, middleware.After) })
	})
	var beforeCleaner int64
	cleaner := &fakeCleaner{fn: func(int, pipeline.Resource) error { beforeCleaner = trips.n.Load(); return nil }}
	cb := coordinator.New(coordinator.Deps{Ledger: ledger.New(client, b.Table), SageMaker: b.SageMaker, Cleaner: cleaner, Scope: everything,
		Access: pipeline.AllowList{Accounts: []string{account}}})
	coord := coordinator.New(coordinator.Deps{Ledger: b.Ledger, SageMaker: b.SageMaker, Access: pipeline.AllowList{Accounts: []string{account}}})

	arn := b.Start(b.CreatePipeline(definition(callbackStepWith("Etl", b.CallbackQueue, map[string]any{callback.ArgSFNExecutionARN: sfnARN}))))
	bodies := map[callback.Status]string{}
	take := func(want callback.Status) string {
		b.Eventually(fmt.Sprintf("a %s message", want), func() bool {
			out, err := b.SQS.ReceiveMessage(b.Ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(b.CallbackQueue), MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range out.Messages {
				parsed, err := callback.Parse(aws.ToString(m.Body))
				if err != nil {
					t.Fatal(err)
				}
				bodies[parsed.Status] = aws.ToString(m.Body)
			}
			return bodies[want] != ""
		})
		return bodies[want]
	}
	if _, err := cb.HandleCallback(b.Ctx, coordinator.Delivery{MessageID: "start", Body: take(callback.StatusExecuting), ReceiveCount: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := coord.Stop(b.Ctx, coordinator.StopInput{ExecutionARN: arn}); err != nil {
		t.Fatal(err)
	}
	stopping := take(callback.StatusStopping)
	trips.n.Store(0)
	res, err := cb.HandleCallback(b.Ctx, coordinator.Delivery{MessageID: "stopping", Body: stopping, ReceiveCount: 1})
	if err != nil || res.Action != coordinator.ActionAnswered {
		t.Fatalf("%+v, %v", res, err)
	}
	total := trips.n.Load()
	t.Logf("DynamoDB round trips per Stopping message: %d before the first cleaner, %d in all (one resource)", beforeCleaner, total)
	if beforeCleaner > 2 {
		t.Errorf("%d round trips before the first cleaner, want at most 2 (read the execution, claim)", beforeCleaner)
	}
}
