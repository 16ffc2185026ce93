package pipeline_test

import (
	"strings"
	"testing"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything:at/all", true},
		{"arn:aws:states:*:123456789012:execution:etl-*:*", "arn:aws:states:eu-west-1:123456789012:execution:etl-nightly:run-1", true},
		{"arn:aws:states:*:123456789012:execution:etl-*:*", "arn:aws:states:eu-west-1:123456789012:execution:payments:run-1", false},
		{"arn:aws:ecs:*:*:task/ml-*/*", "arn:aws:ecs:us-east-1:1:task/ml-train/abc", true},
		{"arn:aws:ecs:*:*:task/ml-*/*", "arn:aws:ecs:us-east-1:1:task/prod/abc", false},
		{"stopcoord-cleanup-?", "stopcoord-cleanup-1", true},
		{"stopcoord-cleanup-?", "stopcoord-cleanup-12", false},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"", "", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
	}
	for _, tt := range tests {
		if got := pipeline.Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCleanupScope(t *testing.T) {
	known := []string{"sfn-execution", "lambda-cleanup"}
	s, err := pipeline.ParseCleanupScope(`{"sfn-execution":["arn:aws:states:*:*:execution:etl-*:*"]}`, known)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Allows("sfn-execution", "arn:aws:states:us-east-1:1:execution:etl-a:r"); err != nil {
		t.Fatalf("in scope: %v", err)
	}
	for _, c := range [][2]string{{"sfn-execution", "arn:aws:states:us-east-1:1:execution:prod:r"}, {"lambda-cleanup", "prod-payments-fn"}} {
		if err := s.Allows(c[0], c[1]); pipeline.Code(err) != pipeline.EUnauthorized || !strings.Contains(err.Error(), "outside the cleanup scope") {
			t.Fatalf("Allows(%s, %s) = %v, want unauthorized", c[0], c[1], err)
		}
	}
	var zero pipeline.CleanupScope
	if !zero.Empty() || zero.Allows("sfn-execution", "x") == nil {
		t.Fatal("the zero scope must allow nothing")
	}
	_, err = pipeline.ParseCleanupScope(`{"emr-cluster":["*"],"lambda-cleanup":[""]}`, known)
	if err == nil || !strings.Contains(err.Error(), "emr-cluster") || !strings.Contains(err.Error(), "empty pattern") {
		t.Fatalf("bad scope: %v, want every problem listed", err)
	}
}
