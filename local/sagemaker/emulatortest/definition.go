package emulatortest

import (
	"encoding/json"
	"fmt"
	"maps"
)

// Definition is a pipeline definition document under construction: the one
// builder the emulator's tests, and any test that runs pipelines on the
// emulator, share instead of each writing definition JSON by hand.
//
//	doc := emulatortest.Pipeline(
//		emulatortest.Job("Train", "Training").Duration(500),
//		emulatortest.Callback("Wait", queueURL).After("Train"),
//	).Param("Label", "String", "x").JSON()
type Definition struct {
	Parameters []Parameter
	Steps      []Step
}

// Parameter is one pipeline parameter; a nil Default means none.
type Parameter struct {
	Name    string
	Type    string // String, Integer, Boolean or Float
	Default any
}

// Output is a declared output parameter of a Callback or Lambda step.
type Output struct {
	Name string
	Type string // String, Integer, Boolean or Float
}

// Step is one step as its JSON object. The constructors return a fresh
// Step and every method returns a modified copy, so a Step can be shared.
type Step map[string]any

// Pipeline starts a definition with these steps and no parameters.
func Pipeline(steps ...Step) Definition { return Definition{Steps: steps} }

// Param returns the definition with one more parameter.
func (d Definition) Param(name, typ string, def any) Definition {
	d.Parameters = append(append([]Parameter(nil), d.Parameters...), Parameter{Name: name, Type: typ, Default: def})
	return d
}

// JSON is the definition document, as CreatePipeline and UpdatePipeline
// take it. It panics only if a step holds a value JSON cannot encode, which
// is a defect in the test.
func (d Definition) JSON() string {
	params := make([]map[string]any, 0, len(d.Parameters))
	for _, p := range d.Parameters {
		m := map[string]any{"Name": p.Name, "Type": p.Type}
		if p.Default != nil {
			m["DefaultValue"] = p.Default
		}
		params = append(params, m)
	}
	steps := d.Steps
	if steps == nil {
		steps = []Step{}
	}
	b, err := json.Marshal(map[string]any{"Version": "2020-12-01", "Metadata": map[string]any{}, "Parameters": params, "Steps": steps})
	if err != nil {
		panic(fmt.Sprintf("encode pipeline definition: %v", err))
	}
	return string(b)
}

// Callback is a callback step sending its messages to queueURL, with no
// arguments and no outputs until Args and Outputs say otherwise.
func Callback(name, queueURL string) Step {
	return Step{"Name": name, "Type": "Callback", "SqsQueueUrl": queueURL, "Arguments": map[string]any{}, "OutputParameters": []any{}}
}

// Lambda is a Lambda step calling functionARN with a step timeout in
// seconds (0 leaves Timeout out: the emulator's default of 120 s).
func Lambda(name, functionARN string, timeoutSeconds float64) Step {
	s := Step{"Name": name, "Type": "Lambda", "FunctionArn": functionARN, "Arguments": map[string]any{}, "OutputParameters": []any{}}
	if timeoutSeconds != 0 {
		s["Timeout"] = timeoutSeconds
	}
	return s
}

// Job is a step the emulator simulates as a job: typ is Training,
// Processing, Transform, Tuning or any other job type.
func Job(name, typ string) Step {
	return Step{"Name": name, "Type": typ, "Arguments": map[string]any{}}
}

// Fail is a Fail step whose ErrorMessage becomes the execution's
// FailureReason.
func Fail(name, message string) Step {
	return Step{"Name": name, "Type": "Fail", "Arguments": map[string]any{"ErrorMessage": message}}
}

// RawStep decodes a step written as JSON, for steps the constructors do not
// cover (conditions, invalid steps in validation tests). It panics on JSON
// that does not decode, a defect in the test.
func RawStep(doc string) Step {
	var s Step
	if err := json.Unmarshal([]byte(doc), &s); err != nil {
		panic(fmt.Sprintf("raw step %s: %v", doc, err))
	}
	return s
}

func (s Step) with(key string, v any) Step {
	c := maps.Clone(s)
	c[key] = v
	return c
}

// Args sets the step's Arguments (expressions such as
// {"Get": "Parameters.Label"} are resolved when the step starts).
func (s Step) Args(args map[string]any) Step { return s.with("Arguments", args) }

// Outputs declares the step's output parameters.
func (s Step) Outputs(outs ...Output) Step {
	list := make([]map[string]string, 0, len(outs))
	for _, o := range outs {
		list = append(list, map[string]string{"OutputName": o.Name, "OutputType": o.Type})
	}
	return s.with("OutputParameters", list)
}

// After makes the step depend on the named steps (DependsOn).
func (s Step) After(steps ...string) Step {
	if len(steps) == 0 {
		return s
	}
	return s.with("DependsOn", append([]string(nil), steps...))
}

// simulation returns a copy of the step's x-emulator knobs.
func (s Step) simulation() map[string]any {
	sim, _ := s["x-emulator"].(map[string]any)
	return maps.Clone(sim)
}

func (s Step) simulate(key string, v any) Step {
	sim := s.simulation()
	if sim == nil {
		sim = map[string]any{}
	}
	sim[key] = v
	return s.with("x-emulator", sim)
}

// Duration is how long a simulated job runs, in modelled milliseconds.
func (s Step) Duration(ms int) Step { return s.simulate("durationMs", ms) }

// FailWith makes a simulated job fail with reason when its duration ends.
func (s Step) FailWith(reason string) Step { return s.simulate("fail", reason) }

// StopDelay is how long a simulated job stays Stopping, in modelled
// milliseconds.
func (s Step) StopDelay(ms int) Step { return s.simulate("stopDelayMs", ms) }
