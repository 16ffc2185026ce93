package coordinator_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func errorsAs[T any](err error, target *T) bool { return errors.As(err, target) }

func TestAllowList(t *testing.T) {
	a := coordinator.AllowList{Accounts: []string{"123456789012"}, Pipelines: []string{"train-*", "etl"}}
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
	if errs := (coordinator.AllowList{Accounts: []string{"12"}, Pipelines: []string{"[x"}}).Validate(); len(errs) != 2 {
		t.Errorf("Validate found %v, want a bad account and a bad pattern", errs)
	}
}

func TestLambdaTimeouts(t *testing.T) {
	def := `{"Steps":[
		{"Name":"A","Type":"Lambda","Timeout":300},
		{"Name":"B","Type":"Lambda"},
		{"Name":"C","Type":"Condition","Arguments":{"IfSteps":[{"Name":"D","Type":"Lambda","Timeout":45}],"ElseSteps":[]}},
		{"Name":"E","Type":"Training","Timeout":9}]}`
	got := coordinator.LambdaTimeouts(def)
	want := map[string]time.Duration{"A": 300 * time.Second, "D": 45 * time.Second}
	if len(got) != len(want) || got["A"] != want["A"] || got["D"] != want["D"] {
		t.Fatalf("LambdaTimeouts = %v, want %v", got, want)
	}
	if got := coordinator.LambdaTimeouts("not json"); len(got) != 0 {
		t.Fatalf("bad definition gave %v", got)
	}
}
