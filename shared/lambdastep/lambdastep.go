// Package lambdastep helps a function run by a SageMaker Pipelines Lambda
// step end early when its execution is stopped. SageMaker cannot stop a
// Lambda step: a stop waits for the function to return (then the execution
// is Stopped) or for the step's timeout (then it is Failed, and the
// function keeps running). A function that checks whether its execution is
// stopping, and returns, turns a stop that takes minutes and fails into
// one that takes seconds and stops.
//
// Pass the execution ARN in the step's arguments:
//
//	LambdaStep(..., inputs={"executionArn": ExecutionVariables.PIPELINE_EXECUTION_ARN})
//
// which the definition records as {"executionArn": {"Get": "Execution.PipelineExecutionArn"}}.
package lambdastep

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
)

// ArgumentName is the step argument that carries the execution ARN, by
// convention.
const ArgumentName = "executionArn"

// DefaultInterval is how long an answer is reused: a step polling in a
// tight loop costs one DescribePipelineExecution per interval at most.
const DefaultInterval = 5 * time.Second

// ErrStopping is the cause of a Watch context cancelled because the
// execution is stopping or has ended.
var ErrStopping = errors.New("pipeline execution is stopping")

// Describer reads an execution's status; *sagemaker.Client satisfies it.
type Describer interface {
	DescribePipelineExecution(ctx context.Context, in *sagemaker.DescribePipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error)
}

var _ Describer = (*sagemaker.Client)(nil)

// Checker answers whether one execution is stopping, asking SageMaker at
// most once per interval. It is safe for concurrent use.
type Checker struct {
	client   Describer
	arn      string
	interval time.Duration
	now      func() time.Time

	mu       sync.Mutex
	checked  time.Time
	stopping bool
}

// NewChecker returns a Checker for the execution; an interval of zero is
// DefaultInterval.
func NewChecker(client Describer, executionARN string, interval time.Duration) *Checker {
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Checker{client: client, arn: executionARN, interval: interval, now: time.Now}
}

// Stopping reports whether the execution is stopping or has already ended
// (Stopped, Failed or Succeeded): either way the step's result is no
// longer wanted. Once true it stays true without asking again.
func (c *Checker) Stopping(ctx context.Context) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopping || (!c.checked.IsZero() && c.now().Sub(c.checked) < c.interval) {
		return c.stopping, nil
	}
	out, err := c.client.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(c.arn)})
	if err != nil {
		return false, fmt.Errorf("check whether %s is stopping: %w", c.arn, err)
	}
	c.checked = c.now()
	c.stopping = out.PipelineExecutionStatus != types.PipelineExecutionStatusExecuting
	return c.stopping, nil
}

// Watch returns a context that is cancelled, with cause ErrStopping, as
// soon as the execution starts stopping (checked every interval), so long
// work that honours its context ends early. A failed check is not a stop:
// the work goes on and the next interval checks again. Call cancel when
// the work is done to end the watch.
func Watch(ctx context.Context, client Describer, executionARN string, interval time.Duration) (context.Context, context.CancelFunc) {
	c := NewChecker(client, executionARN, interval)
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		t := time.NewTicker(c.interval)
		defer t.Stop()
		for {
			if stopping, _ := c.Stopping(ctx); stopping {
				cancel(ErrStopping)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return ctx, func() { cancel(context.Canceled) }
}
