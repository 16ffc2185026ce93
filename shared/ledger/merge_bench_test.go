package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// BenchmarkMergeRoundTrips reports the DynamoDB round trips (calls/op) of
// the two token writes that merge into a record with optimistic
// concurrency, CompleteToken (every callback message) and AppendResources
// (every worker registration): a strongly consistent read, then a
// conditional write, and again when another writer came first. The
// contended cases run writers side by side on one token.
func BenchmarkMergeRoundTrips(b *testing.B) {
	ctx := context.Background()
	client, table := dynamodblocal.ClientT(b)
	if err := ledger.CreateTable(ctx, client, table); err != nil {
		b.Fatal(err)
	}
	counter := &roundTrips{}
	l := ledger.New(dynamodb.New(client.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Finalize.Add(counter, middleware.After) })
	}), table)
	var seq atomic.Int64
	newARN := func() pipeline.ExecutionARN { return execARN(b, fmt.Sprintf("m%d", seq.Add(1))) }
	const token = "MergeTok01"
	resource := func(i int) []pipeline.Resource {
		return []pipeline.Resource{{Kind: "glue-job-run", ID: fmt.Sprintf("jr_%d", i), Params: map[string]string{"jobName": "etl"}}}
	}

	run := func(name string, writers int, setup func(pipeline.ExecutionARN), op func(arn pipeline.ExecutionARN, writer int) error) {
		b.Run(name, func(b *testing.B) {
			arns := make([]pipeline.ExecutionARN, b.N)
			for i := range arns {
				arns[i] = newARN()
				if setup != nil {
					setup(arns[i])
				}
			}
			counter.n.Store(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var wg sync.WaitGroup
				errs := make(chan error, writers)
				for w := range writers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						errs <- op(arns[i], w)
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(counter.n.Load())/float64(b.N*writers), "calls/op")
		})
	}
	complete := func(arn pipeline.ExecutionARN, _ int) error {
		_, _, err := l.CompleteToken(ctx, registration(arn, token))
		return err
	}
	appendOne := func(arn pipeline.ExecutionARN, w int) error {
		_, err := l.AppendResources(ctx, arn, token, resource(w))
		return err
	}
	workerFirst := func(arn pipeline.ExecutionARN) {
		if _, err := l.AppendResources(ctx, arn, token, resource(99)); err != nil {
			b.Fatal(err)
		}
	}
	registered := func(arn pipeline.ExecutionARN) {
		if _, _, err := l.CompleteToken(ctx, registration(arn, token)); err != nil {
			b.Fatal(err)
		}
	}

	run("CompleteToken/new", 1, nil, complete)
	run("CompleteToken/after-worker", 1, workerFirst, complete)
	run("CompleteToken/again", 1, registered, complete)
	run("AppendResources/new", 1, nil, appendOne)
	run("AppendResources/registered", 1, registered, appendOne)
	run("AppendResources/4-writers", 4, registered, appendOne)
	run("AppendResources+CompleteToken/side-by-side", 2, workerFirst, func(arn pipeline.ExecutionARN, w int) error {
		if w == 0 {
			return complete(arn, w)
		}
		return appendOne(arn, w)
	})
}
