package coordinator

import (
	"context"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Seams for the package's tests: they watch the stops and token answers
// status events and the sweeper would start, instead of starting them.

// ReplaceStopper makes s start its stops through f.
func ReplaceStopper(s *Service, f interface {
	Stop(ctx context.Context, in StopInput) (StopResult, error)
}) {
	s.stopper = f
}

// ReplaceAnswerer makes s unblock callback tokens through f.
func ReplaceAnswerer(s *Service, f interface {
	CleanupAndAnswer(ctx context.Context, arn pipeline.ExecutionARN, token string, force bool, reason string) error
}) {
	s.answerer = f
}
