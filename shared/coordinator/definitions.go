package coordinator

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Definitions reads Lambda step timeouts from the definition each
// execution really ran (DescribePipelineDefinitionForExecution: the
// pipeline may have been updated since the execution started), keeping
// each execution's for a while: SageMaker's events do not carry the
// timeout, and one call per Lambda step event would spend the call budget
// on the same answer.
type Definitions struct {
	client definitionReader
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedTimeouts // by execution ARN
}

// definitionReader reads the definition an execution ran; SageMaker
// satisfies it.
type definitionReader interface {
	DescribePipelineDefinitionForExecution(ctx context.Context, in *sagemaker.DescribePipelineDefinitionForExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error)
}

type cachedTimeouts struct {
	timeouts map[string]time.Duration
	at       time.Time
}

// NewDefinitions returns a cache of Lambda step timeouts. An execution's
// entry is dropped after ttl, which bounds the cache; nil now is time.Now.
func NewDefinitions(client definitionReader, ttl time.Duration, now func() time.Time) *Definitions {
	if now == nil {
		now = time.Now
	}
	return &Definitions{client: client, ttl: ttl, now: now, cache: map[string]cachedTimeouts{}}
}

// LambdaTimeout is the timeout of a Lambda step of the execution's
// pipeline: the definition's Timeout, or SageMaker's default when the
// definition gives none.
func (d *Definitions) LambdaTimeout(ctx context.Context, arn pipeline.ExecutionARN, step string) (time.Duration, error) {
	key := arn.String()
	now := d.now()
	d.mu.Lock()
	c, ok := d.cache[key]
	d.mu.Unlock()
	if !ok || now.Sub(c.at) > d.ttl {
		timeouts, err := definitionTimeouts(ctx, d.client, arn)
		if err != nil {
			return 0, err
		}
		c = cachedTimeouts{timeouts: timeouts, at: now}
		d.mu.Lock()
		for k, old := range d.cache {
			if now.Sub(old.at) > d.ttl {
				delete(d.cache, k)
			}
		}
		d.cache[key] = c
		d.mu.Unlock()
	}
	if t, ok := c.timeouts[step]; ok {
		return t, nil
	}
	return DefaultLambdaTimeout, nil
}

// definitionTimeouts reads each Lambda step's Timeout from the definition
// the execution ran.
func definitionTimeouts(ctx context.Context, client definitionReader, arn pipeline.ExecutionARN) (map[string]time.Duration, error) {
	out, err := client.DescribePipelineDefinitionForExecution(ctx, &sagemaker.DescribePipelineDefinitionForExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
	if err != nil {
		return nil, fromSageMaker("describe the definition of", arn.String(), err)
	}
	return LambdaTimeouts(aws.ToString(out.PipelineDefinition)), nil
}
