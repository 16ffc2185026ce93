package emulator

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// resolver evaluates definition expressions ({"Get": ...}, {"Std:Join":
// ...}) against a snapshot of an execution, taken under the emulator lock so
// that resolving needs no lock.
type resolver struct {
	params   map[string]any
	vars     map[string]any            // Execution.<Var>
	outputs  map[string]map[string]any // step name -> output name -> typed value
	outcomes map[string]bool           // Condition step name -> outcome
	started  map[string]bool           // steps that ran (their job properties resolve to placeholders)
}

// resolve returns v with every expression replaced by its value.
func (r *resolver) resolve(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			if g, ok := t["Get"]; ok {
				path, ok := g.(string)
				if !ok {
					return nil, fmt.Errorf("Get wants a string, got %T", g)
				}
				return r.get(path)
			}
			if j, ok := t["Std:Join"]; ok {
				return r.join(j)
			}
			if _, ok := t["Std:JsonGet"]; ok {
				return nil, fmt.Errorf("Std:JsonGet (property files) is not modelled by the emulator")
			}
		}
		out := make(map[string]any, len(t))
		for k, child := range t {
			rv, err := r.resolve(child)
			if err != nil {
				return nil, err
			}
			out[k] = rv
		}
		return out, nil
	case []any:
		out := make([]any, len(t))
		for i, child := range t {
			rv, err := r.resolve(child)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *resolver) get(path string) (any, error) {
	if name, ok := strings.CutPrefix(path, "Parameters."); ok {
		v, ok := r.params[name]
		if !ok {
			return nil, fmt.Errorf("unknown parameter %q", name)
		}
		return v, nil
	}
	if name, ok := strings.CutPrefix(path, "Execution."); ok {
		v, ok := r.vars[name]
		if !ok {
			return nil, fmt.Errorf("unknown execution variable %q", name)
		}
		return v, nil
	}
	if name, ok := strings.CutPrefix(path, "PipelineExperimentConfig."); ok {
		switch name {
		case "ExperimentName":
			return r.vars["PipelineName"], nil
		case "TrialName":
			return r.vars["PipelineExecutionId"], nil
		}
		return nil, fmt.Errorf("unknown experiment property %q", name)
	}
	step, ok := stepRefName(path)
	if !ok {
		return nil, fmt.Errorf("cannot resolve %q", path)
	}
	prop := strings.TrimPrefix(strings.TrimPrefix(path, "Steps."+step), ".")
	if out, ok := strings.CutPrefix(prop, "OutputParameters["); ok {
		name := strings.Trim(strings.TrimSuffix(out, "]"), `'"`)
		v, ok := r.outputs[step][name]
		if !ok {
			return nil, fmt.Errorf("step %q has no output parameter %q", step, name)
		}
		return v, nil
	}
	if prop == "Outcome" {
		o, ok := r.outcomes[step]
		if !ok {
			return nil, fmt.Errorf("step %q has no outcome", step)
		}
		return o, nil
	}
	if !r.started[step] {
		return nil, fmt.Errorf("step %q has not run", step)
	}
	// Job properties (model artifacts, output locations) have no real value
	// here; a stable placeholder lets pipelines that pass them along run.
	return "emulator:" + path, nil
}

func (r *resolver) join(arg any) (any, error) {
	m, ok := arg.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Std:Join wants an object")
	}
	on, _ := m["On"].(string)
	values, _ := m["Values"].([]any)
	parts := make([]string, 0, len(values))
	for _, v := range values {
		rv, err := r.resolve(v)
		if err != nil {
			return nil, err
		}
		parts = append(parts, primitiveString(rv))
	}
	return strings.Join(parts, on), nil
}

// evalConditions is true when every condition holds (the list is an AND).
func (r *resolver) evalConditions(conds []any) (bool, error) {
	for _, c := range conds {
		ok, err := r.evalCondition(c)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (r *resolver) evalCondition(c any) (bool, error) {
	m, ok := c.(map[string]any)
	if !ok {
		return false, fmt.Errorf("a condition must be an object")
	}
	typ, _ := m["Type"].(string)
	switch typ {
	case "Not":
		ok, err := r.evalCondition(m["Condition"])
		return !ok, err
	case "Or":
		list, _ := m["Conditions"].([]any)
		for _, sub := range list {
			ok, err := r.evalCondition(sub)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "In":
		q, err := r.resolve(m["QueryValue"])
		if err != nil {
			return false, err
		}
		values, _ := m["Values"].([]any)
		for _, v := range values {
			rv, err := r.resolve(v)
			if err != nil {
				return false, err
			}
			if equalValues(q, rv) {
				return true, nil
			}
		}
		return false, nil
	case "Equals", "GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo":
		left, err := r.resolve(m["LeftValue"])
		if err != nil {
			return false, err
		}
		right, err := r.resolve(m["RightValue"])
		if err != nil {
			return false, err
		}
		if typ == "Equals" {
			return equalValues(left, right), nil
		}
		l, lok := number(left)
		rt, rok := number(right)
		if !lok || !rok {
			return false, fmt.Errorf("%s compares numbers, got %v and %v", typ, left, right)
		}
		switch typ {
		case "GreaterThan":
			return l > rt, nil
		case "GreaterThanOrEqualTo":
			return l >= rt, nil
		case "LessThan":
			return l < rt, nil
		default:
			return l <= rt, nil
		}
	}
	return false, fmt.Errorf("unknown condition type %q", typ)
}

func equalValues(a, b any) bool {
	if x, ok := number(a); ok {
		if y, ok := number(b); ok {
			return x == y
		}
	}
	return primitiveString(a) == primitiveString(b)
}

func number(v any) (float64, bool) {
	switch t := v.(type) {
	case float64:
		return t, true
	case int64:
		return float64(t), true
	case string:
		f, err := strconv.ParseFloat(t, 64)
		return f, err == nil
	}
	return 0, false
}

// primitiveString formats a value the way it appears in a string context
// (Std:Join, output parameter values).
func primitiveString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e15 {
			return strconv.FormatInt(int64(t), 10)
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case nil:
		return ""
	default:
		return fmt.Sprint(t)
	}
}

// convertParam turns a parameter value (a string on the API, any JSON value
// in a definition default) into its declared type.
func convertParam(typ string, v any) (any, error) {
	s, isString := v.(string)
	switch typ {
	case "String":
		if !isString {
			return primitiveString(v), nil
		}
		return s, nil
	case "Integer":
		if isString {
			n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an Integer", s)
			}
			return float64(n), nil
		}
		if f, ok := v.(float64); ok && f == math.Trunc(f) {
			return f, nil
		}
	case "Float":
		if isString {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a Float", s)
			}
			return f, nil
		}
		if f, ok := v.(float64); ok {
			return f, nil
		}
	case "Boolean":
		if isString {
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("%q is not a Boolean", s)
			}
			return b, nil
		}
		if b, ok := v.(bool); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%v is not a %s", v, typ)
}
