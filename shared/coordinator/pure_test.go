package coordinator_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/coordinator"
)

func errorsAs[T any](err error, target *T) bool { return errors.As(err, target) }

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
