package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// runLambda invokes the function with the resolved Arguments and waits for
// it or the step timeout. A Lambda step cannot be stopped: during a stop it
// keeps Executing, and the execution ends Stopped if the function finishes,
// Failed if the timeout hits first (the function itself keeps running).
func (e *Emulator) runLambda(ctx context.Context, x *execution, s *stepRun) {
	e.transition(x, s, statusExecuting, "", nil)
	args, err := e.resolveArgs(x, s)
	if err != nil {
		e.transition(x, s, statusFailed, fmt.Sprintf("Lambda step arguments could not be resolved: %v", err), nil)
		return
	}
	event, err := json.Marshal(args)
	if err != nil {
		e.transition(x, s, statusFailed, fmt.Sprintf("Lambda step arguments could not be encoded: %v", err), nil)
		return
	}
	callCtx, cancel := context.WithTimeout(ctx, e.opts.scaled(s.def.Timeout))
	defer cancel()
	status, body, err := e.lambda.invoke(callCtx, s.def.FunctionArn, event)
	if ctx.Err() != nil {
		return // the emulator is closing
	}
	if errors.Is(callCtx.Err(), context.DeadlineExceeded) {
		e.transition(x, s, statusFailed, fmt.Sprintf("Lambda function %s did not finish within the step timeout of %s.",
			s.def.FunctionArn, s.def.Timeout), nil)
		return
	}
	outputs, reason := lambdaResult(s.def, status, body, err)
	if reason != "" {
		e.transition(x, s, statusFailed, reason, nil)
		return
	}
	wire := make([]wireOutputParameter, 0, len(s.def.Outputs))
	values := make(map[string]any, len(s.def.Outputs))
	for _, o := range s.def.Outputs {
		wire = append(wire, wireOutputParameter{Name: o.Name, Value: primitiveString(outputs[o.Name])})
		values[o.Name] = outputs[o.Name]
	}
	e.transition(x, s, statusSucceeded, "", func() {
		s.outputs = wire
		s.outputValues = values
	})
}

// lambdaResult reads the function's answer: the declared outputs, or why
// the step failed. A function error comes back as HTTP 200 with
// errorMessage/errorType (that is how aws-lambda-rie answers too).
func lambdaResult(d *stepDef, status int, body []byte, err error) (map[string]any, string) {
	if err != nil {
		return nil, truncate(fmt.Sprintf("Lambda function %s could not be invoked: %v", d.FunctionArn, err), 1024)
	}
	if status < 200 || status > 299 {
		return nil, truncate(fmt.Sprintf("Lambda function %s returned HTTP %d: %s", d.FunctionArn, status, strings.TrimSpace(string(body))), 1024)
	}
	if strings.HasPrefix(string(body), "Task timed out") {
		return nil, truncate(fmt.Sprintf("Lambda function %s failed: %s", d.FunctionArn, strings.TrimSpace(string(body))), 1024)
	}
	var out map[string]any
	if len(strings.TrimSpace(string(body))) > 0 && string(body) != "null" {
		if err := json.Unmarshal(body, &out); err != nil && len(d.Outputs) > 0 {
			return nil, truncate(fmt.Sprintf("Lambda function %s returned a response that is not a JSON object: %v", d.FunctionArn, err), 1024)
		}
	}
	if msg, ok := out["errorMessage"].(string); ok {
		typ, _ := out["errorType"].(string)
		return nil, truncate(fmt.Sprintf("Lambda function %s failed: %s: %s", d.FunctionArn, typ, msg), 1024)
	}
	for _, o := range d.Outputs {
		v, ok := out[o.Name]
		if !ok {
			return nil, truncate(fmt.Sprintf("Lambda function %s output is missing the output parameter %q", d.FunctionArn, o.Name), 1024)
		}
		switch v.(type) {
		case string, float64, bool:
		default:
			return nil, truncate(fmt.Sprintf("Lambda function %s output parameter %q is not a string, number or boolean", d.FunctionArn, o.Name), 1024)
		}
	}
	return out, ""
}
