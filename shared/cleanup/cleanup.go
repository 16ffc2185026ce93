// Package cleanup holds the cleaners: each stops one kind of resource a
// callback step started (a Step Functions execution, a Glue job run, a Batch
// job, an ECS task, a SageMaker job) or calls the step's cleanup Lambda.
// Each takes the one SDK-shaped client method it needs, so the real client
// satisfies it and a test can fake it. A resource that has already stopped,
// finished or gone counts as cleaned: there is nothing left to stop.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/smithy-go"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Cleaner stops resources of one kind.
type Cleaner interface {
	// Kind is the resource kind it cleans (pipeline.ResourceSFNExecution, ...).
	Kind() string
	// Clean stops the resource; cc is the callback the resource served.
	Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error
}

// Set picks the cleaner for each resource by its kind.
type Set map[string]Cleaner

// NewSet returns a set of the cleaners; a later cleaner of a kind replaces
// an earlier one.
func NewSet(cleaners ...Cleaner) Set {
	s := Set{}
	for _, c := range cleaners {
		s[c.Kind()] = c
	}
	return s
}

// Clean cleans the resource with the cleaner of its kind.
func (s Set) Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error {
	c, ok := s[r.Kind]
	if !ok {
		return pipeline.Errorf(pipeline.EInvalid, "no cleaner for resource kind %q", r.Kind)
	}
	if err := c.Clean(ctx, r, cc); err != nil {
		return fmt.Errorf("clean %s %s: %w", r.Kind, r.ID, err)
	}
	return nil
}

// apiErrorIs reports whether err is an AWS API error with one of the codes
// and, when fragments are given, a message containing one of them (matched
// without regard to case): services say "already stopped" with a generic
// code and only the message tells.
func apiErrorIs(err error, codes []string, fragments ...string) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	codeOK := false
	for _, c := range codes {
		if api.ErrorCode() == c {
			codeOK = true
		}
	}
	if !codeOK {
		return false
	}
	if len(fragments) == 0 {
		return true
	}
	msg := strings.ToLower(api.ErrorMessage())
	for _, f := range fragments {
		if strings.Contains(msg, f) {
			return true
		}
	}
	return false
}
