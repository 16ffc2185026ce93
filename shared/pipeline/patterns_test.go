package pipeline

import (
	"regexp"
	"testing"
)

// The hand-written validators must accept exactly what the API's patterns
// accept, within the API's length limits (maxLen; 0 for none): the fuzzer
// compares them on arbitrary input.
var patterns = map[string]struct {
	re     *regexp.Regexp
	maxLen int
	valid  func(string) bool
}{
	"partition": {regexp.MustCompile(`^aws(-[a-z]+)*$`), 0, validPartition},
	"region":    {regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`), 0, validRegion},
	"account":   {regexp.MustCompile(`^[0-9]{12}$`), 0, validAccount},
	// The pattern bounds the letters and digits only; PipelineName is also
	// 1-256 characters long.
	"pipelineName": {regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$`), 256, validPipelineName},
	"executionID":  {regexp.MustCompile(`^[a-zA-Z0-9]{1,64}$`), 0, validExecutionID},
}

func FuzzValidatorsMatchPatterns(f *testing.F) {
	for _, s := range []string{"aws", "aws-us-gov", "aws-", "us-east-1", "us-gov-west-1", "u-east-1", "123456789012", "a--b", "-a", "a-", "p4jn9xou8a8s", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, p := range patterns {
			want := p.re.MatchString(s) && (p.maxLen == 0 || len(s) <= p.maxLen)
			if got := p.valid(s); got != want {
				t.Fatalf("%s(%q) = %v, the pattern says %v", name, s, got, want)
			}
		}
	})
}
