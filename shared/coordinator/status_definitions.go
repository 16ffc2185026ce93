package coordinator

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Definitions reads Lambda step timeouts from pipeline definitions, keeping
// each pipeline's for a while: SageMaker's events do not carry the timeout,
// and one DescribePipeline per Lambda step event would spend the call
// budget on the same answer.
type Definitions struct {
	client PipelineDescriber
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	cache map[string]cachedTimeouts // by pipeline ARN
}

type cachedTimeouts struct {
	timeouts map[string]time.Duration
	at       time.Time
}

// NewDefinitions returns a cache of Lambda step timeouts. A definition is
// read again after ttl, so an updated pipeline is seen; nil now is
// time.Now.
func NewDefinitions(client PipelineDescriber, ttl time.Duration, now func() time.Time) *Definitions {
	if now == nil {
		now = time.Now
	}
	return &Definitions{client: client, ttl: ttl, now: now, cache: map[string]cachedTimeouts{}}
}

// LambdaTimeout is the timeout of a Lambda step of the execution's
// pipeline: the definition's Timeout, or SageMaker's default when the
// definition gives none.
func (d *Definitions) LambdaTimeout(ctx context.Context, arn pipeline.ExecutionARN, step string) (time.Duration, error) {
	key := arn.PipelineARN()
	now := d.now()
	d.mu.Lock()
	c, ok := d.cache[key]
	d.mu.Unlock()
	if !ok || now.Sub(c.at) > d.ttl {
		out, err := d.client.DescribePipeline(ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String(key)})
		if err != nil {
			return 0, fromSageMaker("describe pipeline", arn.Pipeline, err)
		}
		c = cachedTimeouts{timeouts: LambdaTimeouts(aws.ToString(out.PipelineDefinition)), at: now}
		d.mu.Lock()
		d.cache[key] = c
		d.mu.Unlock()
	}
	if t, ok := c.timeouts[step]; ok {
		return t, nil
	}
	return DefaultLambdaTimeout, nil
}
