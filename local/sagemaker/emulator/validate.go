package emulator

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Patterns from the service model (botocore sagemaker 2017-07-24). The model
// patterns match the whole value, so each is anchored here.
const (
	patPipelineName         = `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}`
	patPipelineNameOrArn    = `(arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:([0-9]{12}|aws):pipeline/.*)?([a-zA-Z0-9](-*[a-zA-Z0-9]){0,255})`
	patPipelineExecutionArn = `arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]*:[0-9]{12}:pipeline\/.*\/execution\/.*`
	patExecutionName        = `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,81}`
	patRoleArn              = `arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`
	patCallbackToken        = `[a-zA-Z0-9]+`
	patParameterName        = `[A-Za-z0-9\-_]*`
	patTag                  = `([\p{L}\p{Z}\p{N}_.:/=+\-@]*)`
	patBucket               = `[a-z0-9][\.\-a-z0-9]{1,61}[a-z0-9]`
)

var patterns = map[string]*regexp.Regexp{}

func init() {
	for _, p := range []string{patPipelineName, patPipelineNameOrArn, patPipelineExecutionArn,
		patExecutionName, patRoleArn, patCallbackToken, patParameterName, patTag, patBucket} {
		patterns[p] = regexp.MustCompile(`^(?:` + p + `)$`)
	}
}

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

// str checks length (in characters) and, when pattern is not empty, the
// pattern. A nil value is not checked: use required for that.
func (v *violations) str(path string, s *string, minLen, maxLen int, pattern string) {
	if s == nil {
		return
	}
	n := utf8.RuneCountInString(*s)
	switch {
	case n < minLen:
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %d", quote(*s), path, minLen)
	case maxLen > 0 && n > maxLen:
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", quote(*s), path, maxLen)
	case pattern != "" && !patterns[pattern].MatchString(*s):
		v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", quote(*s), path, pattern)
	}
}

func (v *violations) intRange(path string, n *int64, minVal, maxVal int64) {
	if n == nil {
		return
	}
	switch {
	case *n < minVal:
		v.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", *n, path, minVal)
	case maxVal > 0 && *n > maxVal:
		v.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", *n, path, maxVal)
	}
}

func (v *violations) listLen(path string, n, maxLen int) {
	if n > maxLen {
		v.add("Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", path, maxLen)
	}
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
	if len(s) > maxShown {
		return s[:maxShown] + "..."
	}
	return s
}

// Common member checks shared by several operations.

func (v *violations) clientRequestToken(path string, s *string, isRequired bool) {
	if isRequired && !v.required(path, s != nil) {
		return
	}
	v.str(path, s, 32, 128, "")
}

func (v *violations) executionArn(path string, s *string) {
	if v.required(path, s != nil) {
		v.str(path, s, 0, 2048, patPipelineExecutionArn)
	}
}

func (v *violations) pagination(nextToken *string, maxResults *int64) {
	v.str("nextToken", nextToken, 0, 8192, "")
	v.intRange("maxResults", maxResults, 1, 100)
}

func (v *violations) sortOrder(s *string) {
	v.enum("sortOrder", s, "Ascending", "Descending")
}
