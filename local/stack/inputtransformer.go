package stack

import (
	"encoding/json"
	"fmt"
	"strings"
)

// inputTransformer is a rule target's InputTransformer: what EventBridge
// makes of an event before it hands it to the target. CDK renders
// RuleTargetInput.fromObject with EventField values (the scheduled stops'
// Stop Requested envelope) this way.
type inputTransformer struct {
	paths    map[string]string // placeholder -> JSONPath into the event ($.id, $.detail.x)
	template string
}

// readInputTransformer reads a target's InputTransformer, or returns nil
// when it has none.
func readInputTransformer(target map[string]any) (*inputTransformer, error) {
	raw, ok := target["InputTransformer"].(map[string]any)
	if !ok {
		return nil, nil
	}
	t := &inputTransformer{paths: map[string]string{}}
	if t.template, ok = raw["InputTemplate"].(string); !ok {
		return nil, fmt.Errorf("InputTransformer has no InputTemplate string")
	}
	if m, ok := raw["InputPathsMap"].(map[string]any); ok {
		for k, v := range m {
			p, ok := v.(string)
			if !ok || !strings.HasPrefix(p, "$") {
				return nil, fmt.Errorf("InputPathsMap %s: %v is not a JSONPath", k, v)
			}
			t.paths[k] = p
		}
	}
	return t, nil
}

// apply renders the template for one event. As EventBridge does, a
// placeholder inside quotes takes the value's text, and one outside quotes
// takes the value as JSON; a path that finds nothing gives null (or "").
func (t *inputTransformer) apply(event []byte) ([]byte, error) {
	var ev any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("input transformer: the event is not JSON: %w", err)
	}
	var b strings.Builder
	inString, escaped := false, false
	for i := 0; i < len(t.template); i++ {
		ch := t.template[i]
		if ch == '<' {
			if end := strings.IndexByte(t.template[i:], '>'); end > 0 {
				if path, ok := t.paths[t.template[i+1:i+end]]; ok {
					b.WriteString(render(lookupPath(ev, path), inString))
					i += end
					continue
				}
			}
		}
		switch {
		case escaped:
			escaped = false
		case ch == '\\' && inString:
			escaped = true
		case ch == '"':
			inString = !inString
		}
		b.WriteByte(ch)
	}
	out := b.String()
	if !json.Valid([]byte(out)) {
		return nil, fmt.Errorf("input transformer: the rendered input is not JSON: %s", out)
	}
	return []byte(out), nil
}

// render is a value as a placeholder becomes it: its text inside a JSON
// string, JSON outside one.
func render(v any, inString bool) string {
	asJSON, _ := json.Marshal(v)
	if !inString {
		return string(asJSON)
	}
	if s, ok := v.(string); ok {
		asJSON, _ = json.Marshal(s)
	}
	if v == nil {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(string(asJSON), `"`), `"`)
}

// lookupPath follows a simple JSONPath ($, $.a, $.a.b) through decoded JSON.
func lookupPath(v any, path string) any {
	rest := strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	if rest == "" {
		return v
	}
	for _, part := range strings.Split(rest, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[part]
	}
	return v
}
