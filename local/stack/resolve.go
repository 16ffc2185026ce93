package stack

import (
	"fmt"
	"strings"
)

// physical holds what each logical id became locally, per attribute:
// "" is what Ref returns, other keys are Fn::GetAtt attributes.
type physical map[string]map[string]string

// pseudo are the pseudo parameters as the local parts see them.
var pseudo = map[string]string{
	"AWS::AccountId": "123456789012",
	"AWS::Region":    "us-east-1",
	"AWS::Partition": "aws",
	"AWS::URLSuffix": "amazonaws.com",
	"AWS::StackName": "StopCoord",
}

// resolve evaluates the intrinsic functions the stack's environment and
// wiring use: Ref, Fn::GetAtt and Fn::Join.
func (p physical) resolve(v any) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strings.TrimSuffix(fmt.Sprintf("%f", v), ".000000"), nil
	case bool:
		return fmt.Sprint(v), nil
	case map[string]any:
		if ref, ok := v["Ref"].(string); ok {
			if s, ok := pseudo[ref]; ok {
				return s, nil
			}
			return p.attr(ref, "")
		}
		if ga, ok := v["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
			id, _ := ga[0].(string)
			attr, _ := ga[1].(string)
			return p.attr(id, attr)
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			out := make([]string, 0, len(parts))
			for _, part := range parts {
				s, err := p.resolve(part)
				if err != nil {
					return "", err
				}
				out = append(out, s)
			}
			return strings.Join(out, sep), nil
		}
	}
	return "", fmt.Errorf("cannot resolve %v locally", v)
}

// resolveAll resolves every intrinsic inside a document (an event
// pattern), leaving plain values as they are.
func (p physical) resolveAll(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if _, ok := v["Ref"]; ok && len(v) == 1 {
			return p.resolve(v)
		}
		if _, ok := v["Fn::GetAtt"]; ok && len(v) == 1 {
			return p.resolve(v)
		}
		if _, ok := v["Fn::Join"]; ok && len(v) == 1 {
			return p.resolve(v)
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := p.resolveAll(x)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := p.resolveAll(x)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func (p physical) attr(id, attr string) (string, error) {
	if s, ok := p[id][attr]; ok {
		return s, nil
	}
	return "", fmt.Errorf("no local value for %s %s", id, attr)
}

func (p physical) set(id, attr, value string) {
	if p[id] == nil {
		p[id] = map[string]string{}
	}
	p[id][attr] = value
}

// refersTo returns the logical id an intrinsic value points at (Ref or
// Fn::GetAtt), or "".
func refersTo(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	if ref, ok := m["Ref"].(string); ok {
		return ref
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		s, _ := ga[0].(string)
		return s
	}
	if join, ok := m["Fn::Join"].([]any); ok && len(join) == 2 {
		parts, _ := join[1].([]any)
		for _, part := range parts {
			if id := refersTo(part); id != "" {
				return id
			}
		}
	}
	return ""
}
