package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Scope kinds for what a step's arguments name besides resources to clean:
// the worker stopcoord hands the step's work to.
const (
	ScopeWorkerLambda = "worker-lambda" // a function name or ARN
	ScopeWorkerQueue  = "worker-queue"  // a queue URL
)

// CleanupScope is what stopcoord may act on, per kind: glob patterns ("*"
// any run of characters, "?" one) matched against a resource's subject (an
// ARN, a name or a URL). stopcoord's roles can stop and invoke much of an
// account, so a resource is acted on only inside the scope, whoever asked:
// the zero scope allows nothing.
type CleanupScope struct {
	patterns map[string][]string
}

// ParseCleanupScope reads a scope from JSON, {"kind": ["pattern", ...]},
// checking every kind against known and listing every problem. Empty text
// is the empty scope.
func ParseCleanupScope(text string, known []string) (CleanupScope, error) {
	s := CleanupScope{patterns: map[string][]string{}}
	if strings.TrimSpace(text) == "" {
		return s, nil
	}
	var raw map[string][]string
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return CleanupScope{}, Errorf(EInvalid, "cleanup scope is not a JSON object of kind to patterns: %v", err)
	}
	kinds := make([]string, 0, len(raw))
	for k := range raw {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var errs []error
	for _, k := range kinds {
		if !contains(known, k) {
			errs = append(errs, fmt.Errorf("cleanup scope: %q is not a kind (known: %s)", k, strings.Join(known, ", ")))
		}
		for _, p := range raw[k] {
			if strings.TrimSpace(p) == "" {
				errs = append(errs, fmt.Errorf("cleanup scope: %s has an empty pattern", k))
			}
		}
		s.patterns[k] = raw[k]
	}
	if len(errs) > 0 {
		return CleanupScope{}, Errorf(EInvalid, "%v", errors.Join(errs...))
	}
	return s, nil
}

// Empty reports whether the scope allows nothing.
func (s CleanupScope) Empty() bool { return len(s.patterns) == 0 }

// Allows returns nil when a pattern of the kind matches the subject, and an
// EUnauthorized error saying why not otherwise.
func (s CleanupScope) Allows(kind, subject string) error {
	for _, p := range s.patterns[kind] {
		if Glob(p, subject) {
			return nil
		}
	}
	if len(s.patterns[kind]) == 0 {
		return Errorf(EUnauthorized, "%s %s is outside the cleanup scope: no %s is in scope", kind, subject, kind)
	}
	return Errorf(EUnauthorized, "%s %s is outside the cleanup scope: it matches none of %s", kind, subject, strings.Join(s.patterns[kind], ", "))
}

// Glob matches a pattern where "*" is any run of characters (slashes and
// colons too, as ARNs and URLs have) and "?" any one character.
func Glob(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
