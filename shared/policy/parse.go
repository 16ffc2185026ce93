package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Limits SageMaker puts on the output parameters of a callback answer.
const (
	maxOutputs          = 50
	maxOutputNameLength = 256
	maxOutputValueLen   = 1024
)

// Parse reads a policy set from JSON:
//
//	{"allowedPipelines": ["dev-*", "train-*"],
//	 "policies": [{"pipelines": ["dev-*"], "maxRuntime": "6h", "failFast": true,
//	               "onStop": "fail", "gracePeriod": "5m", "forceDeadline": "30m"}]}
//
// Decoding is strict: an unknown field, a wrong type, a malformed pattern
// or duration, or a force deadline before the grace period is an error.
// Every problem is reported, each with its JSON path, so one deploy shows
// them all. Empty input is the empty set: every pipeline allowed, every
// pipeline on the default policy.
func Parse(raw []byte) (*Set, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return &Set{}, nil
	}
	var p problems
	top := p.object("", raw, "allowedPipelines", "policies")
	s := &Set{}
	if v, ok := top["allowedPipelines"]; ok {
		s.allowed = p.patterns("allowedPipelines", v, false)
	}
	if v, ok := top["policies"]; ok {
		var list []json.RawMessage
		if err := json.Unmarshal(v, &list); err != nil {
			p.add("policies", "want a list of policies")
		}
		for i, item := range list {
			s.policies = append(s.policies, p.policy(fmt.Sprintf("policies[%d]", i), item))
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// problems collects what is wrong, in input order.
type problems []error

func (p *problems) add(at, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...)))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("invalid policies: %w", errors.Join(p...))
}

// object decodes a JSON object and reports every key it does not know.
func (p *problems) object(at string, raw json.RawMessage, known ...string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		p.add(orRoot(at), "want a JSON object")
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !slices.Contains(known, k) {
			p.add(join(at, k), "unknown field (known: %s)", strings.Join(known, ", "))
		}
	}
	return m
}

func (p *problems) policy(at string, raw json.RawMessage) Policy {
	m := p.object(at, raw, "pipelines", "maxRuntime", "failFast", "onStop", "outputs", "gracePeriod", "forceDeadline")
	pol := Default()
	if m == nil {
		return pol
	}
	if v, ok := m["pipelines"]; ok {
		pol.Pipelines = p.patterns(join(at, "pipelines"), v, true)
	} else {
		p.add(join(at, "pipelines"), "required: the pipeline name patterns the policy applies to")
	}
	if v, ok := m["maxRuntime"]; ok {
		pol.MaxRuntime = p.duration(join(at, "maxRuntime"), v, time.Second)
	}
	if v, ok := m["failFast"]; ok {
		if err := json.Unmarshal(v, &pol.FailFast); err != nil {
			p.add(join(at, "failFast"), "want true or false")
		}
	}
	if v, ok := m["onStop"]; ok {
		if err := json.Unmarshal(v, &pol.OnStop); err != nil || (pol.OnStop != OnStopFail && pol.OnStop != OnStopSucceed) {
			p.add(join(at, "onStop"), "want %q or %q", OnStopFail, OnStopSucceed)
			pol.OnStop = OnStopFail
		}
	}
	if v, ok := m["outputs"]; ok {
		pol.Outputs = p.outputs(join(at, "outputs"), v)
		if pol.OnStop != OnStopSucceed {
			p.add(join(at, "outputs"), "outputs are only sent when onStop is %q", OnStopSucceed)
		}
	}
	if v, ok := m["gracePeriod"]; ok {
		pol.GracePeriod = p.duration(join(at, "gracePeriod"), v, 0)
	}
	if v, ok := m["forceDeadline"]; ok {
		pol.ForceDeadline = p.duration(join(at, "forceDeadline"), v, 0)
	}
	if pol.ForceDeadline < pol.GracePeriod {
		p.add(join(at, "forceDeadline"), "%s is before the grace period %s: the sweeper must clean up before it forces", pol.ForceDeadline, pol.GracePeriod)
	}
	return pol
}

// patterns decodes a list of path.Match patterns.
func (p *problems) patterns(at string, raw json.RawMessage, required bool) []string {
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		p.add(at, "want a list of pipeline name patterns")
		return nil
	}
	if required && len(list) == 0 {
		p.add(at, "want at least one pattern")
	}
	for i, pat := range list {
		if strings.TrimSpace(pat) == "" {
			p.add(fmt.Sprintf("%s[%d]", at, i), "empty pattern")
			continue
		}
		if err := pipeline.ValidateNamePattern(pat); err != nil {
			p.add(fmt.Sprintf("%s[%d]", at, i), "%q is not a valid pattern (path.Match syntax: dev-*, train-?)", pat)
		}
	}
	return list
}

// duration decodes a Go duration string of at least min.
func (p *problems) duration(at string, raw json.RawMessage, min time.Duration) time.Duration {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		p.add(at, "want a duration string such as \"90s\", \"30m\" or \"6h\"")
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		p.add(at, "%q is not a duration (Go syntax: \"90s\", \"30m\", \"6h\")", s)
	case d < min:
		p.add(at, "%s is less than %s", d, min)
	default:
		return d
	}
	return 0
}

func (p *problems) outputs(at string, raw json.RawMessage) map[string]string {
	var m map[string]string
	if err := json.Unmarshal(raw, &m); err != nil {
		p.add(at, "want an object of string output names to string values")
		return nil
	}
	if len(m) > maxOutputs {
		p.add(at, "%d outputs; SageMaker takes at most %d", len(m), maxOutputs)
	}
	for k, v := range m {
		if k == "" || len(k) > maxOutputNameLength {
			p.add(join(at, k), "output name must be 1-%d characters", maxOutputNameLength)
		}
		if len(v) > maxOutputValueLen {
			p.add(join(at, k), "output value is longer than %d characters", maxOutputValueLen)
		}
	}
	return m
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func orRoot(at string) string {
	if at == "" {
		return "$"
	}
	return at
}
