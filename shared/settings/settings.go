// Package settings names the environment variables stopcoord's functions
// read and loads them, validated, at start-up. The CDK stack builds each
// function's environment from the same constants, so a renamed variable
// cannot drift between code and deployment.
package settings

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Environment variable names shared with infra.
const (
	TableName        = "STOPCOORD_TABLE_NAME"
	CallbackQueueURL = "STOPCOORD_CALLBACK_QUEUE_URL"
	StopQueueURL     = "STOPCOORD_STOP_QUEUE_URL"
	AllowedAccounts  = "STOPCOORD_ALLOWED_ACCOUNTS"  // comma-separated account ids; empty allows none
	AllowedPipelines = "STOPCOORD_ALLOWED_PIPELINES" // comma-separated name patterns (path.Match); empty allows all
	MaxBodyBytes     = "STOPCOORD_MAX_BODY_BYTES"
	Policies         = "STOPCOORD_POLICIES" // JSON, see the policy package
	Retention        = "STOPCOORD_RETENTION"
	// SageMakerCallsPerSecond is the stop queue consumer's budget of
	// SageMaker calls.
	SageMakerCallsPerSecond = "STOPCOORD_SAGEMAKER_CALLS_PER_SECOND"
	// Deployment names the stack a function belongs to: the Deployment
	// dimension of its metrics. Every function gets it; start-up reads it.
	Deployment = "STOPCOORD_DEPLOYMENT"
)

// Env reads variables and collects every problem, so start-up can report
// them all at once instead of one per deploy.
type Env struct {
	lookup func(string) (string, bool)
	errs   []error
}

// FromOS reads the process environment.
func FromOS() *Env { return &Env{lookup: os.LookupEnv} }

// FromMap reads a fixed map, for tests.
func FromMap(m map[string]string) *Env {
	return &Env{lookup: func(k string) (string, bool) { v, ok := m[k]; return v, ok }}
}

// String returns a required, non-empty variable.
func (e *Env) String(name string) string {
	v, ok := e.lookup(name)
	if !ok || strings.TrimSpace(v) == "" {
		e.errs = append(e.errs, fmt.Errorf("%s is required", name))
	}
	return strings.TrimSpace(v)
}

// Optional returns a variable or the fallback when it is unset or empty.
func (e *Env) Optional(name, fallback string) string {
	if v, ok := e.lookup(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return fallback
}

// Int returns an integer variable within [min, max], or the fallback when unset.
func (e *Env) Int(name string, fallback, min, max int) int {
	raw := e.Optional(name, "")
	if raw == "" {
		return fallback
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < min || n > max {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: want an integer from %d to %d", name, raw, min, max))
		return fallback
	}
	return n
}

// Duration returns a duration variable (Go syntax, "90s", "72h") within
// [min, max], or the fallback when unset.
func (e *Env) Duration(name string, fallback, min, max time.Duration) time.Duration {
	raw := e.Optional(name, "")
	if raw == "" {
		return fallback
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < min || d > max {
		e.errs = append(e.errs, fmt.Errorf("%s=%q: want a duration from %s to %s", name, raw, min, max))
		return fallback
	}
	return d
}

// List returns a comma-separated variable as trimmed, non-empty items.
func (e *Env) List(name string) []string {
	var out []string
	for _, item := range strings.Split(e.Optional(name, ""), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// Check records a problem found by the caller's own validation.
func (e *Env) Check(ok bool, format string, args ...any) {
	if !ok {
		e.errs = append(e.errs, fmt.Errorf(format, args...))
	}
}

// Err reports every problem found so far, or nil.
func (e *Env) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration: %w", errors.Join(e.errs...))
}
