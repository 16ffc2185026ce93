package pipeline_test

import (
	"testing"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestAllowList(t *testing.T) {
	a := pipeline.AllowList{Accounts: []string{"123456789012"}, Pipelines: []string{"train-*", "etl"}}
	tests := []struct {
		arn  string
		want string
	}{
		{"arn:aws:sagemaker:us-east-1:123456789012:pipeline/train-daily/execution/abc", ""},
		{"arn:aws:sagemaker:us-east-1:123456789012:pipeline/etl/execution/abc", ""},
		{"arn:aws:sagemaker:us-east-1:123456789012:pipeline/etl-2/execution/abc", pipeline.EUnauthorized},
		{"arn:aws:sagemaker:us-east-1:210987654321:pipeline/etl/execution/abc", pipeline.EUnauthorized},
	}
	for _, tt := range tests {
		arn, err := pipeline.ParseExecutionARN(tt.arn)
		if err != nil {
			t.Fatal(err)
		}
		if got := pipeline.Code(a.Check(arn)); got != tt.want {
			t.Errorf("Check(%s) code = %q, want %q", tt.arn, got, tt.want)
		}
	}
	if errs := (pipeline.AllowList{Accounts: []string{"12"}, Pipelines: []string{"[x"}}).Validate(); len(errs) != 2 {
		t.Errorf("Validate found %v, want a bad account and a bad pattern", errs)
	}
}

func TestMatchesNameIsTheOneNameRule(t *testing.T) {
	for _, tt := range []struct {
		patterns []string
		name     string
		want     bool
	}{
		{[]string{"train-*"}, "train-daily", true},
		{[]string{"train-?"}, "train-ab", false},
		{[]string{"etl", "dev-*"}, "dev-x", true},
		{nil, "etl", false},
	} {
		if got := pipeline.MatchesName(tt.patterns, tt.name); got != tt.want {
			t.Errorf("MatchesName(%v, %q) = %v, want %v", tt.patterns, tt.name, got, tt.want)
		}
	}
	if pipeline.ValidateNamePattern("[x") == nil {
		t.Error("ValidateNamePattern accepted a malformed pattern")
	}
}
