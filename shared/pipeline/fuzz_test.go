package pipeline_test

import (
	"testing"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func FuzzParseExecutionARN(f *testing.F) {
	for _, s := range []string{validARN, "", "arn:aws:sagemaker:::pipeline//execution/", "arn:aws:sagemaker:us-east-1:123456789012:pipeline/a/execution/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := pipeline.ParseExecutionARN(s)
		if err != nil {
			if pipeline.Code(err) != pipeline.EInvalid {
				t.Fatalf("ParseExecutionARN(%q) code = %q, want invalid", s, pipeline.Code(err))
			}
			return
		}
		// A parsed ARN formats back to exactly its input and parses again.
		if a.String() != s {
			t.Fatalf("round trip: %q became %q", s, a.String())
		}
		if _, err := pipeline.ParseExecutionARN(a.String()); err != nil {
			t.Fatalf("re-parse %q: %v", a.String(), err)
		}
	})
}

func FuzzValidateCallbackToken(f *testing.F) {
	for _, s := range []string{"26vcYbeWsZ", "", "short", "26vcYbeWs!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := pipeline.ValidateCallbackToken(s)
		valid := len(s) == 10
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				valid = false
			}
		}
		if (err == nil) != valid {
			t.Fatalf("ValidateCallbackToken(%q) = %v, want valid=%v", s, err, valid)
		}
	})
}
