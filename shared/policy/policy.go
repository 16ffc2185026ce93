// Package policy holds stopcoord's per-pipeline policies: how long an
// execution may run, whether a failed step stops it, how a stop answers
// callback steps, and how long a stop may take before the sweeper cleans up
// again and then forces it. Policies are loaded once, at start-up, from
// validated JSON (the STOPCOORD_POLICIES variable the CDK stack sets).
package policy

import (
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Outcomes a stop can give a callback step.
const (
	OnStopFail    = "fail"
	OnStopSucceed = "succeed"
)

// Defaults for a pipeline no policy matches, and for fields a policy leaves
// out.
const (
	DefaultGracePeriod   = 5 * time.Minute
	DefaultForceDeadline = 30 * time.Minute
)

// Policy is what stopcoord does for the pipelines matching its patterns.
type Policy struct {
	// Pipelines are path.Match patterns of pipeline names ("dev-*").
	Pipelines []string
	// MaxRuntime is how long an execution may run before the sweeper stops
	// it; zero means no limit.
	MaxRuntime time.Duration
	// FailFast stops the execution as soon as one of its steps fails,
	// instead of letting the other running steps finish.
	FailFast bool
	// OnStop is how a stop answers a callback step: OnStopFail (with the
	// stop reason) or OnStopSucceed (with Outputs).
	OnStop string
	// Outputs are the output parameters of a successful answer.
	Outputs map[string]string
	// GracePeriod is how long an execution may stay Stopping before the
	// sweeper runs the cleanup of its open callbacks again.
	GracePeriod time.Duration
	// ForceDeadline is how long an execution may stay Stopping before the
	// sweeper answers its open callbacks with a failure, without cleanup.
	ForceDeadline time.Duration
}

// Default is the policy of a pipeline no pattern matches.
func Default() Policy {
	return Policy{OnStop: OnStopFail, GracePeriod: DefaultGracePeriod, ForceDeadline: DefaultForceDeadline}
}

// Set is a validated list of policies, first match wins, and the pipelines
// stopcoord may act on.
type Set struct {
	allowed  []string
	policies []Policy
}

// For returns the policy of the first pattern that matches the pipeline
// name, or Default.
func (s *Set) For(pipelineName string) Policy {
	if s != nil {
		for _, p := range s.policies {
			if matchAny(p.Pipelines, pipelineName) {
				return p
			}
		}
	}
	return Default()
}

// StopOutcome says how a stop answers the pipeline's callback steps:
// succeed (with output parameters) or fail. The callback consumer takes it
// as its StopOutcome function.
func (s *Set) StopOutcome(pipelineName string) (bool, map[string]string) {
	p := s.For(pipelineName)
	if p.OnStop != OnStopSucceed {
		return false, nil
	}
	out := make(map[string]string, len(p.Outputs))
	for k, v := range p.Outputs {
		out[k] = v
	}
	return true, out
}

// FailFast reports whether a failed step stops the pipeline's execution.
func (s *Set) FailFast(pipelineName string) bool { return s.For(pipelineName).FailFast }

// AllowedPipelines are the patterns of the pipelines stopcoord may act on;
// empty means every pipeline.
func (s *Set) AllowedPipelines() []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s.allowed...)
}

// Allowed reports whether stopcoord may act on the pipeline.
func (s *Set) Allowed(pipelineName string) bool {
	return s == nil || len(s.allowed) == 0 || matchAny(s.allowed, pipelineName)
}

// Len is the number of policies.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.policies)
}

func matchAny(patterns []string, name string) bool { return pipeline.MatchesName(patterns, name) }
