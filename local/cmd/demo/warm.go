package main

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// warmLedger makes the ledger calls of a stop, on executions of its own,
// rounds times over (workers at once), before the demo measures one. A
// fresh DynamoDB Local JVM interprets each code path until it has run it
// some hundreds of times, then compiles it: the first stop on a fresh
// stand-in paid 15-60 ms for a call that takes 3-4 ms once compiled (the
// ledger's BenchmarkRoundTrips). DynamoDB itself has no such warm-up, so
// the demo pays it before the stop, not during it.
func (d *demo) warmLedger(ctx context.Context, rounds, workers int) error {
	start := time.Now()
	g, ctx := errgroup.WithContext(ctx)
	for w := range workers {
		g.Go(func() error {
			for i := w; i < rounds; i += workers {
				if err := d.warmRound(ctx, i); err != nil {
					return fmt.Errorf("warm the ledger: %w", err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "ledger warmed: the calls of a stop, %d times over, in %s (DynamoDB Local's JVM compiles what it has run often)\n", rounds, time.Since(start).Round(time.Millisecond))
	return nil
}

// warmRound registers, claims, reads, cleans and answers one token.
func (d *demo) warmRound(ctx context.Context, i int) error {
	arn, err := pipeline.ParseExecutionARN(fmt.Sprintf("arn:aws:sagemaker:us-east-1:123456789012:pipeline/warm-up/execution/warm%08d", i))
	if err != nil {
		return err
	}
	token := fmt.Sprintf("Warm%06d", i)
	job := pipeline.Resource{Kind: pipeline.ResourceBatchJob, ID: "job"}
	if _, err := d.ledger.RegisterToken(ctx, pipeline.TokenRegistration{ARN: arn, Token: token, StepName: "Warm", Arguments: map[string]any{"a": "b"}, CleanupPlan: []pipeline.Resource{job}}); err != nil {
		return err
	}
	if _, err := d.ledger.ClaimExisting(ctx, arn, token, "warm", time.Minute); err != nil {
		return err
	}
	if _, err := d.ledger.ReadExecution(ctx, arn); err != nil {
		return err
	}
	if _, err := d.ledger.RecordCleanup(ctx, pipeline.CleanupResult{ARN: arn, Token: token, Resource: job, Status: pipeline.CleanupSucceeded, At: time.Now()}); err != nil {
		return err
	}
	_, err = d.ledger.MarkAnswered(ctx, arn, token, pipeline.Answer{By: "warm", Outcome: pipeline.OutcomeFailure, Fence: "warm"})
	return err
}
