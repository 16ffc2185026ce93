// Package stack runs a synthesized stopcoord stack on one machine, the way
// SAM local would: it reads the CloudFormation template in cdk.out/ and
// starts what it declares against the local parts (DynamoDB Local for
// tables, moto for queues and EventBridge rules, aws-lambda-rie for each
// function's host-architecture bootstrap, the SageMaker Pipelines
// emulator), with the glue AWS would provide: SQS event-source mappings,
// rule targets, schedules and an HTTP gateway for the API's routes. Local
// and deployed cannot drift, because both come from the same template.
package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Template is the part of a CloudFormation template the local stack reads.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
	Outputs   map[string]struct {
		Description string `json:"Description"`
		Value       any    `json:"Value"`
	} `json:"Outputs"`
}

// Resource is one resource of the template.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// ReadTemplate reads a synthesized template.
func ReadTemplate(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template %s (run `make synth` first): %w", path, err)
	}
	var t Template
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("decode template %s: %w", path, err)
	}
	return &t, nil
}

// OfType lists the logical ids of the resources of a type, sorted.
func (t *Template) OfType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// OnFailure is where a function's failed asynchronous invocations go, as
// its AWS::Lambda::EventInvokeConfig says: the on-failure queue's logical
// id and how many attempts Lambda makes (1 + MaximumRetryAttempts, which
// defaults to 2), or "" when the function has no such destination.
func (t *Template) OnFailure(functionID string) (queueID string, attempts int) {
	for _, id := range t.OfType("AWS::Lambda::EventInvokeConfig") {
		p := t.Resources[id].Properties
		if refersTo(p["FunctionName"]) != functionID {
			continue
		}
		dest, _ := p["DestinationConfig"].(map[string]any)
		onFailure, _ := dest["OnFailure"].(map[string]any)
		q := refersTo(onFailure["Destination"])
		if t.Resources[q].Type != "AWS::SQS::Queue" {
			return "", 0
		}
		retries, ok := p["MaximumRetryAttempts"].(float64)
		if !ok {
			retries = 2
		}
		return q, 1 + int(retries)
	}
	return "", 0
}

// functionTag is stopcoord.FunctionTag: the function's folder name.
const functionTag = "stopcoord:function"

// FunctionName is the folder name a function resource carries in its tag.
func (r Resource) FunctionName() string {
	tags, _ := r.Properties["Tags"].([]any)
	for _, t := range tags {
		if m, ok := t.(map[string]any); ok && m["Key"] == functionTag {
			s, _ := m["Value"].(string)
			return s
		}
	}
	return ""
}

// number reads a numeric property, or the fallback.
func (r Resource) number(name string, fallback float64) float64 {
	if v, ok := r.Properties[name].(float64); ok {
		return v
	}
	return fallback
}
