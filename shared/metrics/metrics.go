// Package metrics records stopcoord's custom metrics in CloudWatch's
// embedded metric format (EMF): one JSON line per data point on the
// function's log (stdout), which CloudWatch Logs turns into metrics. No
// PutMetricData call is made, so recording costs no network round trip
// and cannot fail an invocation.
//
// Every metric has the Deployment dimension (the stack name), so stacks
// that share an account and region keep their metrics apart, and the
// stack's alarms read exactly their own.
package metrics

import (
	"context"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every stopcoord metric.
const Namespace = "stopcoord"

// Metric names, shared with the alarms and dashboard in infra.
const (
	// StopsRequested counts stop requests created, by Trigger.
	StopsRequested = "StopsRequested"
	// StopsClosed counts stop requests closed, by Trigger and Outcome
	// (the execution's final status).
	StopsClosed = "StopsClosed"
	// StopLatency is from a stop's request to its close, in milliseconds,
	// by Trigger.
	StopLatency = "StopLatency"
	// OpenStops and OldestOpenStopAge are the sweeper's gauges of stop
	// requests not yet closed; the age, in seconds, drives the "stop open
	// too long" alarm.
	OpenStops         = "OpenStops"
	OldestOpenStopAge = "OldestOpenStopAgeSeconds"
	// OpenCallbacks and OldestOpenCallbackAge are the sweeper's gauges of
	// callback tokens not yet answered, the age in seconds.
	OpenCallbacks         = "OpenCallbacks"
	OldestOpenCallbackAge = "OldestOpenCallbackAgeSeconds"
	// Cleanups counts cleanup attempts by Kind and Result (one of the
	// Cleanup* results).
	Cleanups = "Cleanups"
	// TokensForced counts callback tokens the sweeper answered at the force
	// deadline without a finished cleanup.
	TokensForced = "TokensForced"
	// SageMakerThrottles counts SageMaker request attempts refused with a
	// throttling error (each retry counts), by Operation.
	SageMakerThrottles = "SageMakerThrottles"
)

// Dimension names.
const (
	DimDeployment = "Deployment"
	DimTrigger    = "Trigger"
	DimOutcome    = "Outcome"
	DimKind       = "Kind"
	DimResult     = "Result"
	DimOperation  = "Operation"
)

// Triggers, the values of the Trigger dimension: what asked for a stop.
// The Stop Completed event (package stopevents) carries the same strings.
const (
	TriggerAPI        = "api"         // POST /stops
	TriggerBulk       = "bulk"        // POST /pipelines/{name}/stops, one per execution
	TriggerEvent      = "event"       // a Stop Requested event (a rule, a schedule, a person)
	TriggerFailFast   = "fail-fast"   // a step failed under a fail-fast policy
	TriggerMaxRuntime = "max-runtime" // the sweeper, past the pipeline's max runtime
)

// Cleanup results, the values of the Result dimension of Cleanups.
const (
	CleanupSucceeded = "succeeded"
	CleanupFailed    = "failed"    // an attempt failed; it will be tried again
	CleanupAbandoned = "abandoned" // given up: the resource may still be running and costing money
	CleanupRefused   = "refused"   // outside the cleanup scope; never attempted
)

// Recorder is what the use cases report to. EMF writes each call as one
// EMF line; Nop drops them (tests, tools).
type Recorder interface {
	// StopRequested records n stop requests created by one trigger.
	StopRequested(ctx context.Context, trigger string, n int)
	// StopClosed records a stop request closed with the execution's final
	// status, and how long it took from request to close.
	StopClosed(ctx context.Context, trigger, outcome string, latency time.Duration)
	// OpenStops records the stop requests not yet closed and the age of
	// the oldest (0 when none).
	OpenStops(ctx context.Context, open int, oldest time.Duration)
	// OpenCallbacks records the callback tokens not yet answered and the
	// age of the oldest (0 when none).
	OpenCallbacks(ctx context.Context, open int, oldest time.Duration)
	// Cleanup records one cleanup attempt of a resource kind and its result.
	Cleanup(ctx context.Context, kind, result string)
	// TokensForced records n tokens answered at the force deadline.
	TokensForced(ctx context.Context, n int)
	// SageMakerThrottled records one throttled SageMaker request attempt.
	SageMakerThrottled(ctx context.Context, operation string)
}

// Nop records nothing.
type Nop struct{}

func (Nop) StopRequested(context.Context, string, int)                {}
func (Nop) StopClosed(context.Context, string, string, time.Duration) {}
func (Nop) OpenStops(context.Context, int, time.Duration)             {}
func (Nop) OpenCallbacks(context.Context, int, time.Duration)         {}
func (Nop) Cleanup(context.Context, string, string)                   {}
func (Nop) TokensForced(context.Context, int)                         {}
func (Nop) SageMakerThrottled(context.Context, string)                {}

var (
	_ Recorder = Nop{}
	_ Recorder = (*EMF)(nil)
)

var (
	defaultMu       sync.RWMutex
	defaultRecorder Recorder = Nop{}
)

// Default is the recorder start-up configured (startup.Load), or Nop
// before it has. Like slog.Default, it lets a handler record without a
// recorder threaded through every constructor.
func Default() Recorder {
	defaultMu.RLock()
	defer defaultMu.RUnlock()
	return defaultRecorder
}

// SetDefault makes r the recorder Default returns.
func SetDefault(r Recorder) {
	defaultMu.Lock()
	defer defaultMu.Unlock()
	defaultRecorder = r
}
