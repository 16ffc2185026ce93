package emulator

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// The service model's constraints on request members are checked in
// servicemodel.go; this file holds the wording both it and the operations
// use, and the one pattern the definition parser needs.

// patParameterName is the model's pattern for parameter names, which a
// definition's Parameters must also satisfy.
const patParameterName = `[A-Za-z0-9\-_]*`

var parameterNamePattern = regexp.MustCompile(`^(?:` + patParameterName + `)$`)

// violations collects constraint failures the way the service reports them:
// all at once, in one ValidationException, with lowerCamel member paths.
type violations []string

func (v *violations) add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

// required reports a missing member.
func (v *violations) required(path string, present bool) bool {
	if !present {
		v.add("Value null at '%s' failed to satisfy constraint: Member must not be null", path)
	}
	return present
}

func (v *violations) enum(path string, s *string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", quote(*s), path, strings.Join(allowed, ", "))
}

// err is nil when nothing failed, else one ValidationException naming every
// failure, worded like the real service.
func (v violations) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return errValidation("1 validation error detected: %s", v[0])
	default:
		return errValidation("%d validation errors detected: %s", len(v), strings.Join(v, "; "))
	}
}

// quote shortens a value for a message; a 1 MiB definition in an error
// message helps nobody.
func quote(s string) string {
	const maxShown = 200
	if utf8.RuneCountInString(s) > maxShown {
		return string([]rune(s)[:maxShown]) + "..."
	}
	return s
}
