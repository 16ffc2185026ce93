package policy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/policy"
)

const sample = `{
  "allowedPipelines": ["dev-*", "train-*"],
  "policies": [
    {"pipelines": ["dev-*"], "maxRuntime": "6h", "failFast": true, "onStop": "fail", "gracePeriod": "5m", "forceDeadline": "30m"},
    {"pipelines": ["train-nightly", "train-?"], "onStop": "succeed", "outputs": {"stopped": "true"}, "gracePeriod": "1m", "forceDeadline": "2m"}
  ]
}`

func TestFirstMatchingPolicyWins(t *testing.T) {
	set, err := policy.Parse([]byte(sample))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		pipeline string
		want     policy.Policy
	}{
		{"dev pattern", "dev-etl", policy.Policy{Pipelines: []string{"dev-*"}, MaxRuntime: 6 * time.Hour, FailFast: true, OnStop: "fail", GracePeriod: 5 * time.Minute, ForceDeadline: 30 * time.Minute}},
		{"second policy by exact name", "train-nightly", policy.Policy{OnStop: "succeed", GracePeriod: time.Minute, ForceDeadline: 2 * time.Minute}},
		{"second policy by ?", "train-a", policy.Policy{OnStop: "succeed", GracePeriod: time.Minute, ForceDeadline: 2 * time.Minute}},
		{"no match gets the defaults", "prod-train", policy.Default()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := set.For(tt.pipeline)
			if got.MaxRuntime != tt.want.MaxRuntime || got.FailFast != tt.want.FailFast || got.OnStop != tt.want.OnStop ||
				got.GracePeriod != tt.want.GracePeriod || got.ForceDeadline != tt.want.ForceDeadline {
				t.Fatalf("For(%q) = %+v, want %+v", tt.pipeline, got, tt.want)
			}
		})
	}
	if ok, out := set.StopOutcome("train-nightly"); !ok || out["stopped"] != "true" {
		t.Fatalf("StopOutcome(train-nightly) = %v %v, want succeed with outputs", ok, out)
	}
	if ok, out := set.StopOutcome("dev-etl"); ok || out != nil {
		t.Fatalf("StopOutcome(dev-etl) = %v %v, want fail", ok, out)
	}
	if !set.Allowed("dev-x") || set.Allowed("prod-x") || !set.FailFast("dev-x") || set.FailFast("train-a") {
		t.Fatal("Allowed/FailFast disagree with the sample")
	}
}

func TestEmptyConfigurationAllowsAllWithDefaults(t *testing.T) {
	for _, raw := range []string{"", "  ", "{}"} {
		set, err := policy.Parse([]byte(raw))
		if err != nil {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		if !set.Allowed("anything") || set.For("anything").GracePeriod != policy.DefaultGracePeriod || set.Len() != 0 {
			t.Fatalf("Parse(%q) = %+v, want the empty set", raw, set)
		}
	}
}

func TestInvalidConfigurationListsEveryProblem(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want []string // each must appear in the error
	}{
		{"not an object", `[1]`, []string{"$: want a JSON object"}},
		{"unknown fields at both levels", `{"allowed":[],"policies":[{"pipelines":["a"],"maxruntime":"1h"}]}`,
			[]string{"allowed: unknown field", "policies[0].maxruntime: unknown field"}},
		{"every field wrong", `{"allowedPipelines":["[x"],"policies":[{"pipelines":[],"maxRuntime":"6 hours","failFast":"yes","onStop":"skip","gracePeriod":"10m","forceDeadline":"5m"}]}`,
			[]string{"allowedPipelines[0]: \"[x\" is not a valid pattern", "policies[0].pipelines: want at least one pattern",
				"policies[0].maxRuntime: \"6 hours\" is not a duration", "policies[0].failFast: want true or false",
				"policies[0].onStop: want", "policies[0].forceDeadline: 5m0s is before the grace period 10m0s"}},
		{"missing patterns and outputs on a failing policy", `{"policies":[{"outputs":{"a":"b"}}]}`,
			[]string{"policies[0].pipelines: required", "policies[0].outputs: outputs are only sent when onStop is \"succeed\""}},
		{"max runtime too short", `{"policies":[{"pipelines":["a"],"maxRuntime":"500ms"}]}`, []string{"policies[0].maxRuntime: 500ms is less than 1s"}},
		{"policies not a list", `{"policies":{}}`, []string{"policies: want a list"}},
		{"duration not a string", `{"policies":[{"pipelines":["a"],"gracePeriod":300}]}`, []string{"policies[0].gracePeriod: want a duration string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := policy.Parse([]byte(tt.raw))
			if err == nil {
				t.Fatalf("Parse(%s) = %+v, want an error", tt.raw, set)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse(%s) error\n%v\nlacks %q", tt.raw, err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tt.want) {
				t.Errorf("Parse(%s) reported %d problems, want %d:\n%v", tt.raw, got, len(tt.want), err)
			}
		})
	}
}

func ExampleSet_StopOutcome() {
	set, _ := policy.Parse([]byte(`{"policies":[{"pipelines":["dev-*"],"onStop":"succeed","outputs":{"status":"stopped"}}]}`))
	succeed, outputs := set.StopOutcome("dev-etl")
	fmt.Println(succeed, outputs["status"])
	succeed, _ = set.StopOutcome("prod-etl")
	fmt.Println(succeed)
	// Output:
	// true stopped
	// false
}
