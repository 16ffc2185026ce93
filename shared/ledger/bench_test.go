package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// roundTrips counts every request attempt the DynamoDB client sends. It sits
// in the Finalize step after the retryer, so a retried call counts twice.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) ID() string { return "countRoundTrips" }

func (c *roundTrips) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	c.n.Add(1)
	return next.HandleFinalize(ctx, in)
}

// BenchmarkRoundTrips reports the DynamoDB round trips each ledger operation
// costs (calls/op) and its latency against DynamoDB Local.
func BenchmarkRoundTrips(b *testing.B) {
	ctx := context.Background()
	client, table := dynamodblocal.ClientT(b)
	if err := ledger.CreateTable(ctx, client, table); err != nil {
		b.Fatal(err)
	}
	counter := &roundTrips{}
	counted := func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Finalize.Add(counter, middleware.After)
		})
	}
	l := ledger.New(dynamodb.New(client.Options(), counted), table)
	var seq atomic.Int64
	newARN := func() pipeline.ExecutionARN {
		return execARN(b, fmt.Sprintf("b%d", seq.Add(1)))
	}
	token := func(i int64) string { return fmt.Sprintf("T%09d", i) }

	run := func(name string, setup func(arn pipeline.ExecutionARN, i int64), op func(arn pipeline.ExecutionARN, i int64) error) {
		b.Run(name, func(b *testing.B) {
			arns := make([]pipeline.ExecutionARN, b.N)
			for i := range arns {
				arns[i] = newARN()
				if setup != nil {
					setup(arns[i], int64(i))
				}
			}
			counter.n.Store(0)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := op(arns[i], int64(i)); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(counter.n.Load())/float64(b.N), "calls/op")
		})
	}
	at := time.Now()
	run("RecordExecutionStatus", nil, func(arn pipeline.ExecutionARN, _ int64) error {
		_, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: at})
		return err
	})
	run("RecordExecutionStatus/stale", func(arn pipeline.ExecutionARN, _ int64) {
		l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionStopping, At: at})
	}, func(arn pipeline.ExecutionARN, _ int64) error {
		_, err := l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: at})
		if !errors.Is(err, pipeline.ErrStale) {
			return fmt.Errorf("want ErrStale, got %v", err)
		}
		return nil
	})
	run("RecordStepStatus", nil, func(arn pipeline.ExecutionARN, _ int64) error {
		_, err := l.RecordStepStatus(ctx, pipeline.StepChange{ARN: arn, StepName: "Wait", Kind: pipeline.KindCallback, Status: pipeline.StepExecuting, At: at, CallbackToken: "AbCdE12345"})
		return err
	})
	run("RegisterToken", nil, func(arn pipeline.ExecutionARN, i int64) error {
		_, err := l.RegisterToken(ctx, registration(arn, token(i)))
		return err
	})
	run("GetToken", func(arn pipeline.ExecutionARN, i int64) {
		l.RegisterToken(ctx, registration(arn, token(i)))
	}, func(arn pipeline.ExecutionARN, i int64) error {
		_, err := l.GetToken(ctx, arn, token(i))
		return err
	})
	run("MarkAnswered", func(arn pipeline.ExecutionARN, i int64) {
		l.RegisterToken(ctx, registration(arn, token(i)))
	}, func(arn pipeline.ExecutionARN, i int64) error {
		_, err := l.MarkAnswered(ctx, arn, token(i), pipeline.Answer{By: "bench", Outcome: pipeline.OutcomeFailure})
		return err
	})
	run("ClaimToken/new", nil, func(arn pipeline.ExecutionARN, i int64) error {
		_, err := l.ClaimToken(ctx, pipeline.TokenClaim{ARN: arn, Token: token(i), Fence: "bench", Lease: time.Minute, StepName: "Wait"})
		return err
	})
	run("ClaimToken/known", func(arn pipeline.ExecutionARN, i int64) {
		l.RegisterToken(ctx, registration(arn, token(i)))
	}, func(arn pipeline.ExecutionARN, i int64) error {
		reg := registration(arn, token(i))
		known := pipeline.Token{Token: reg.Token, State: pipeline.TokenOpen, StepName: reg.StepName, Arguments: reg.Arguments, CleanupPlan: reg.CleanupPlan}
		_, err := l.ClaimToken(ctx, pipeline.TokenClaim{ARN: arn, Token: token(i), Fence: "bench", Lease: time.Minute, Known: &known})
		return err
	})
	run("ClaimExisting", func(arn pipeline.ExecutionARN, i int64) {
		l.RegisterToken(ctx, registration(arn, token(i)))
	}, func(arn pipeline.ExecutionARN, i int64) error {
		_, err := l.ClaimExisting(ctx, arn, token(i), "bench", time.Minute)
		return err
	})
	// A read, then a write when the record lacks something: the merge is
	// optimistic, conditioned on the plan it read.
	run("CompleteToken/new", nil, func(arn pipeline.ExecutionARN, i int64) error {
		_, _, err := l.CompleteToken(ctx, registration(arn, token(i)))
		return err
	})
	run("CompleteToken/repeat", func(arn pipeline.ExecutionARN, i int64) {
		l.CompleteToken(ctx, registration(arn, token(i)))
	}, func(arn pipeline.ExecutionARN, i int64) error {
		_, _, err := l.CompleteToken(ctx, registration(arn, token(i)))
		return err
	})
	run("AppendResources", func(arn pipeline.ExecutionARN, i int64) {
		l.RegisterToken(ctx, registration(arn, token(i)))
	}, func(arn pipeline.ExecutionARN, i int64) error {
		_, err := l.AppendResources(ctx, arn, token(i), []pipeline.Resource{{Kind: "external", ID: "job-1"}})
		return err
	})
	run("RecordCleanup", nil, func(arn pipeline.ExecutionARN, i int64) error {
		_, err := l.RecordCleanup(ctx, pipeline.CleanupResult{ARN: arn, Token: token(i), Resource: pipeline.Resource{Kind: "glue-job-run", ID: "jr"}, Status: pipeline.CleanupSucceeded, At: at})
		return err
	})
	run("CreateStop", nil, func(arn pipeline.ExecutionARN, _ int64) error {
		_, _, err := l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: at})
		return err
	})
	run("CreateStop/existing", func(arn pipeline.ExecutionARN, _ int64) {
		l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: at})
	}, func(arn pipeline.ExecutionARN, _ int64) error {
		_, created, err := l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: at})
		if created {
			return fmt.Errorf("created twice")
		}
		return err
	})
	run("CloseStop", func(arn pipeline.ExecutionARN, _ int64) {
		l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: at})
	}, func(arn pipeline.ExecutionARN, _ int64) error {
		_, err := l.CloseStop(ctx, arn, pipeline.StopID(arn, "k"), pipeline.ExecutionStopped, at.Add(time.Second), time.Time{})
		return err
	})
	run("ReadExecution/10items", func(arn pipeline.ExecutionARN, i int64) {
		l.RecordExecutionStatus(ctx, pipeline.ExecutionChange{ARN: arn, Status: pipeline.ExecutionExecuting, At: at})
		for s := range 6 {
			l.RecordStepStatus(ctx, pipeline.StepChange{ARN: arn, StepName: fmt.Sprintf("s%d", s), Status: pipeline.StepExecuting, At: at})
		}
		l.RegisterToken(ctx, registration(arn, token(i)))
		l.RecordCleanup(ctx, pipeline.CleanupResult{ARN: arn, Token: token(i), Resource: pipeline.Resource{Kind: "k", ID: "i"}, Status: pipeline.CleanupSucceeded, At: at})
		l.CreateStop(ctx, pipeline.NewStop{ARN: arn, Key: "k", Mode: pipeline.StopGraceful, At: at})
	}, func(arn pipeline.ExecutionARN, _ int64) error {
		v, err := l.ReadExecution(ctx, arn)
		if err == nil && len(v.Steps) != 6 {
			err = fmt.Errorf("read %d steps, want 6", len(v.Steps))
		}
		return err
	})
}
