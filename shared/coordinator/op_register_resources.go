package coordinator

import (
	"context"
	"strings"

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
// a stop cleans them up, each marked with the caller's IAM identity. The
// token must be one of the execution's own callback steps: recorded under
// it in the ledger, or listed by SageMaker for it. Any other token is
// not_found, so no one can slip a resource into another step's cleanup.
// The same resource registered twice is stored once. A token already
// answered, or whose step has ended, refuses with a conflict: its cleanup
// has run or never will, and the worker must stop what it started itself.
func (s *Service) RegisterResources(ctx context.Context, in ResourcesInput) (pipeline.Token, error) {
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
	case n > pipeline.MaxPlanLength:
		return pipeline.Token{}, pipeline.Errorf(pipeline.EInvalid, "resources lists %d resources, at most %d are allowed", n, pipeline.MaxPlanLength)
	}
	for _, r := range in.Resources {
		if err := pipeline.ValidateResource(r); err != nil {
			return pipeline.Token{}, err
		}
		if err := s.scope.Allows(r.Kind, pipeline.ScopeSubject(r)); err != nil {
			return pipeline.Token{}, err // refused now, not at the stop
		}
	}
	if err := s.access.Check(arn); err != nil {
		return pipeline.Token{}, err
	}
	if err := s.stepOwns(ctx, arn, in.Token); err != nil {
		return pipeline.Token{}, err
	}
	resources := make([]pipeline.Resource, len(in.Resources))
	for i, r := range in.Resources {
		r.RegisteredBy = in.RegisteredBy // never what the body says
		resources[i] = r
	}
	return s.ledger.AppendResources(ctx, arn, in.Token, resources)
}

// stepOwns checks that the token belongs to one of the execution's
// callback steps, and that the step still waits.
func (s *Service) stepOwns(ctx context.Context, arn pipeline.ExecutionARN, token string) error {
	view, err := s.ledger.ReadExecution(ctx, arn)
	if err != nil {
		return err
	}
	if tokenIn(view.Tokens, token) != nil {
		return nil // recorded from a start message SageMaker listed, or by an earlier registration
	}
	listed, err := listSteps(ctx, s.sm, arn)
	if err != nil {
		return err
	}
	step, ok := stepOf(callbackSteps(listed), token)
	switch {
	case !ok:
		return pipeline.Errorf(pipeline.ENotFound, "callback token %s is not a callback step of execution %s", pipeline.TokenRef(token), arn.ExecutionID)
	case step.status.Terminal():
		return pipeline.Errorf(pipeline.EConflict, "step %s of execution %s has ended (%s): stop what you started yourself", step.name, arn.ExecutionID, step.status)
	}
	return nil
}
