package coordinator

import (
	"context"
	"strings"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// ResourcesInput is a worker's registration of what it started for a
// callback step: PUT /callbacks/{token}/resources.
type ResourcesInput struct {
	Token        string
	ExecutionARN string
	Resources    []pipeline.Resource
	RegisteredBy string
}

// RegisterResources adds resources to a callback token's cleanup plan, so
// a stop cleans them up. The same resource registered twice is stored once.
// A token already answered refuses with a conflict: its cleanup has run,
// and the worker must stop what it started itself.
func (c *Coordinator) RegisterResources(ctx context.Context, in ResourcesInput) (pipeline.Token, error) {
	arn, err := pipeline.ParseExecutionARN(strings.TrimSpace(in.ExecutionARN))
	if err != nil {
		return pipeline.Token{}, err
	}
	if err := pipeline.ValidateCallbackToken(in.Token); err != nil {
		return pipeline.Token{}, err
	}
	switch n := len(in.Resources); {
	case n == 0:
		return pipeline.Token{}, pipeline.Errorf(pipeline.EInvalid, "resources must list at least one resource")
	case n > callback.MaxPlanLength:
		return pipeline.Token{}, pipeline.Errorf(pipeline.EInvalid, "resources lists %d resources, at most %d are allowed", n, callback.MaxPlanLength)
	}
	for _, r := range in.Resources {
		if err := callback.ValidateResource(r); err != nil {
			return pipeline.Token{}, err
		}
	}
	if err := c.access.Check(arn); err != nil {
		return pipeline.Token{}, err
	}
	return c.ledger.AppendResources(ctx, arn, in.Token, in.Resources)
}
