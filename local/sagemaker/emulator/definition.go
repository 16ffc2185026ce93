package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Step types the definition schema allows. Those without a model of their
// own run as simulated jobs.
const (
	typeTraining   = "Training"
	typeProcessing = "Processing"
	typeTransform  = "Transform"
	typeTuning     = "Tuning"
	typeCallback   = "Callback"
	typeLambda     = "Lambda"
	typeCondition  = "Condition"
	typeFail       = "Fail"
)

var knownStepTypes = []string{
	typeCondition, "Model", typeProcessing, "RegisterModel", typeTraining, typeTransform,
	typeCallback, typeTuning, typeLambda, "QualityCheck", "ClarifyCheck", "EMR", typeFail,
	"AutoML", "EndpointConfig", "Endpoint", "InferenceComponent", "BedrockCustomModel",
	"BedrockCustomModelDeployment", "BedrockModelImport", "BedrockProvisionedModelThroughput",
	"Lineage",
}

var stepNamePattern = regexp.MustCompile(`^[A-Za-z0-9\-_]{1,64}$`)

// definition is a parsed pipeline definition: the DAG the engine runs. It is
// immutable once parsed, so executions share it without locking.
type definition struct {
	Parameters []paramDef
	Steps      []*stepDef // every step, nested condition branches included, in document order
	byName     map[string]*stepDef
}

type paramDef struct {
	Name       string
	Type       string // String, Integer, Boolean or Float
	Default    any
	HasDefault bool
}

type outputDef struct {
	Name string
	Type string // String, Integer, Boolean or Float
}

type stepDef struct {
	Name, Type, DisplayName, Description string
	Arguments                            any
	DependsOn                            []string // explicit, data and branch dependencies together

	SqsQueueURL string        // Callback
	FunctionArn string        // Lambda
	Outputs     []outputDef   // Callback and Lambda
	Timeout     time.Duration // Lambda

	Sim simulation // job steps

	Parent string // the Condition step whose branch holds this step
	InIf   bool   // in the parent's IfSteps (else ElseSteps)

	Conditions []any // Condition
}

// simulation is the step-level "x-emulator" extension. Real definitions
// carry real job arguments, so the emulator's knobs live beside them under a
// key the real service never needs.
type simulation struct {
	Duration  *time.Duration
	Fail      string
	StopDelay *time.Duration
}

type rawStep struct {
	Name             string          `json:"Name"`
	Type             string          `json:"Type"`
	Arguments        json.RawMessage `json:"Arguments"`
	DependsOn        []string        `json:"DependsOn"`
	DisplayName      string          `json:"DisplayName"`
	Description      string          `json:"Description"`
	SqsQueueURL      *string         `json:"SqsQueueUrl"`
	FunctionArn      *string         `json:"FunctionArn"`
	OutputParameters []struct {
		OutputName string `json:"OutputName"`
		OutputType string `json:"OutputType"`
	} `json:"OutputParameters"`
	Timeout   *float64 `json:"Timeout"`
	XEmulator *struct {
		DurationMs  *int64 `json:"durationMs"`
		Fail        string `json:"fail"`
		StopDelayMs *int64 `json:"stopDelayMs"`
	} `json:"x-emulator"`
}

type rawDefinition struct {
	Version    string `json:"Version"`
	Parameters []struct {
		Name         string          `json:"Name"`
		Type         string          `json:"Type"`
		DefaultValue json.RawMessage `json:"DefaultValue"`
	} `json:"Parameters"`
	Steps []json.RawMessage `json:"Steps"`
}

// parseDefinition checks a definition the way CreatePipeline does and returns
// the DAG. Every problem is a ValidationException naming the step.
func parseDefinition(doc string) (*definition, error) {
	var raw rawDefinition
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, errValidation("Invalid pipeline definition: not a JSON object: %v", err)
	}
	if raw.Version == "" {
		return nil, errValidation("Invalid pipeline definition: Version is required")
	}
	if len(raw.Steps) == 0 {
		return nil, errValidation("Invalid pipeline definition: Steps must contain at least one step")
	}
	d := &definition{byName: map[string]*stepDef{}}
	for _, p := range raw.Parameters {
		pd, err := parseParam(p.Name, p.Type, p.DefaultValue)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(d.Parameters, func(o paramDef) bool { return o.Name == pd.Name }) {
			return nil, errValidation("Invalid pipeline definition: duplicate parameter %q", pd.Name)
		}
		d.Parameters = append(d.Parameters, pd)
	}
	if err := d.addSteps(raw.Steps, "", false); err != nil {
		return nil, err
	}
	if err := d.link(); err != nil {
		return nil, err
	}
	return d, nil
}

func parseParam(name, typ string, def json.RawMessage) (paramDef, error) {
	p := paramDef{Name: name, Type: typ}
	if name == "" || !parameterNamePattern.MatchString(name) {
		return p, errValidation("Invalid pipeline definition: parameter name %q must match %s", name, patParameterName)
	}
	switch typ {
	case "String", "Integer", "Boolean", "Float":
	default:
		return p, errValidation("Invalid pipeline definition: parameter %q has type %q; want String, Integer, Boolean or Float", name, typ)
	}
	if len(def) > 0 && !bytes.Equal(def, []byte("null")) {
		var v any
		if err := json.Unmarshal(def, &v); err != nil {
			return p, errValidation("Invalid pipeline definition: parameter %q default: %v", name, err)
		}
		cv, err := convertParam(typ, v)
		if err != nil {
			return p, errValidation("Invalid pipeline definition: parameter %q default: %v", name, err)
		}
		p.Default, p.HasDefault = cv, true
	}
	return p, nil
}

// addSteps adds a list of steps; parent names the Condition step whose
// branch the list is.
func (d *definition) addSteps(list []json.RawMessage, parent string, inIf bool) error {
	for i, msg := range list {
		var r rawStep
		if err := json.Unmarshal(msg, &r); err != nil {
			return errValidation("Invalid pipeline definition: step %d: %v", i, err)
		}
		s, nested, err := parseStep(r)
		if err != nil {
			return err
		}
		if _, dup := d.byName[s.Name]; dup {
			return errValidation("Invalid pipeline definition: duplicate step name %q", s.Name)
		}
		s.Parent, s.InIf = parent, inIf
		if parent != "" {
			s.DependsOn = append(s.DependsOn, parent)
		}
		d.byName[s.Name] = s
		d.Steps = append(d.Steps, s)
		if nested != nil {
			if err := d.addSteps(nested.IfSteps, s.Name, true); err != nil {
				return err
			}
			if err := d.addSteps(nested.ElseSteps, s.Name, false); err != nil {
				return err
			}
		}
	}
	return nil
}

type conditionArgs struct {
	Conditions []any             `json:"Conditions"`
	IfSteps    []json.RawMessage `json:"IfSteps"`
	ElseSteps  []json.RawMessage `json:"ElseSteps"`
}

func parseStep(r rawStep) (*stepDef, *conditionArgs, error) {
	bad := func(format string, args ...any) error {
		return errValidation("Invalid pipeline definition: step %q: %s", r.Name, fmt.Sprintf(format, args...))
	}
	if !stepNamePattern.MatchString(r.Name) {
		return nil, nil, bad("Name must be 1 to 64 characters of [A-Za-z0-9-_]")
	}
	if !slices.Contains(knownStepTypes, r.Type) {
		return nil, nil, bad("unknown Type %q", r.Type)
	}
	s := &stepDef{Name: r.Name, Type: r.Type, DisplayName: r.DisplayName, Description: r.Description,
		DependsOn: slices.Clone(r.DependsOn)}
	if len(r.Arguments) > 0 {
		if err := json.Unmarshal(r.Arguments, &s.Arguments); err != nil {
			return nil, nil, bad("Arguments: %v", err)
		}
	}
	for _, o := range r.OutputParameters {
		typ := o.OutputType
		if typ == "" {
			typ = "String"
		}
		if o.OutputName == "" {
			return nil, nil, bad("OutputParameters need an OutputName")
		}
		s.Outputs = append(s.Outputs, outputDef{Name: o.OutputName, Type: typ})
	}
	var nested *conditionArgs
	switch r.Type {
	case typeCallback:
		if r.SqsQueueURL == nil || *r.SqsQueueURL == "" {
			return nil, nil, bad("a Callback step needs SqsQueueUrl")
		}
		s.SqsQueueURL = *r.SqsQueueURL
	case typeLambda:
		if r.FunctionArn == nil || *r.FunctionArn == "" {
			return nil, nil, bad("a Lambda step needs FunctionArn")
		}
		s.FunctionArn = *r.FunctionArn
		s.Timeout = defaultLambdaTimeout
		if r.Timeout != nil {
			t := time.Duration(*r.Timeout * float64(time.Second))
			if t <= 0 || t > maxLambdaTimeout {
				return nil, nil, bad("Timeout %v s: want more than 0 and at most 600", *r.Timeout)
			}
			s.Timeout = t
		}
	case typeCondition:
		nested = &conditionArgs{}
		if len(r.Arguments) > 0 {
			if err := json.Unmarshal(r.Arguments, nested); err != nil {
				return nil, nil, bad("Arguments: %v", err)
			}
		}
		s.Conditions = nested.Conditions
		// The branches are steps of their own, not arguments to resolve.
		s.Arguments = nil
	}
	if x := r.XEmulator; x != nil {
		if x.DurationMs != nil {
			if *x.DurationMs < 0 {
				return nil, nil, bad("x-emulator.durationMs must not be negative")
			}
			d := time.Duration(*x.DurationMs) * time.Millisecond
			s.Sim.Duration = &d
		}
		if x.StopDelayMs != nil {
			if *x.StopDelayMs < 0 {
				return nil, nil, bad("x-emulator.stopDelayMs must not be negative")
			}
			d := time.Duration(*x.StopDelayMs) * time.Millisecond
			s.Sim.StopDelay = &d
		}
		s.Sim.Fail = x.Fail
	}
	return s, nested, nil
}

// link adds the data dependencies ({"Get": "Steps.X..."} anywhere in a
// step) and checks that every dependency exists and there is no cycle.
func (d *definition) link() error {
	for _, s := range d.Steps {
		refs := stepRefs(s.Arguments, nil)
		refs = stepRefs(s.Conditions, refs)
		for _, r := range refs {
			if !slices.Contains(s.DependsOn, r) {
				s.DependsOn = append(s.DependsOn, r)
			}
		}
		for _, dep := range s.DependsOn {
			if _, ok := d.byName[dep]; !ok {
				return errValidation("Invalid pipeline definition: step %q depends on unknown step %q", s.Name, dep)
			}
			if dep == s.Name {
				return errValidation("Invalid pipeline definition: step %q depends on itself", s.Name)
			}
		}
	}
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case visiting:
			return errValidation("Invalid pipeline definition: dependency cycle through step %q", name)
		case done:
			return nil
		}
		state[name] = visiting
		for _, dep := range d.byName[name].DependsOn {
			if err := visit(dep); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for _, s := range d.Steps {
		if err := visit(s.Name); err != nil {
			return err
		}
	}
	return nil
}

// stepRefs appends the names of the steps that v refers to with
// {"Get": "Steps.<name>..."}.
func stepRefs(v any, into []string) []string {
	switch t := v.(type) {
	case map[string]any:
		if g, ok := t["Get"].(string); ok && len(t) == 1 {
			if name, ok := stepRefName(g); ok && !slices.Contains(into, name) {
				into = append(into, name)
			}
			return into
		}
		for _, child := range t {
			into = stepRefs(child, into)
		}
	case []any:
		for _, child := range t {
			into = stepRefs(child, into)
		}
	}
	return into
}

// stepRefName extracts X from "Steps.X.Path" or "Steps.X['...']".
func stepRefName(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "Steps.")
	if !ok {
		return "", false
	}
	end := strings.IndexAny(rest, ".[")
	if end < 0 {
		end = len(rest)
	}
	return rest[:end], end > 0
}
