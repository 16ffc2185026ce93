package stopcoord

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestExecutionViewGrants: the execution view (stop-api only) lists an
// execution's parameters and describes its pipeline version, so stop-api's
// role allows exactly those two calls, on the allowed executions and
// pipelines; no other function gets them.
func TestExecutionViewGrants(t *testing.T) {
	tmpl := templateJSON(t, synthesize(t))
	resourcesOf := func(id, action string) []string {
		var out []string
		for _, st := range tmpl.roleStatements(t, id) {
			if slices.Contains(actionsOf(st), action) {
				out = append(out, fmt.Sprint(st["Resource"]))
			}
		}
		return out
	}
	for _, tc := range []struct{ action, resourceHas string }{
		{"sagemaker:ListPipelineParametersForExecution", "/execution/*"},
		{"sagemaker:DescribePipeline", ":pipeline/"},
	} {
		got := resourcesOf("StopAPIFunction", tc.action)
		if len(got) != 1 || !strings.Contains(got[0], tc.resourceHas) || strings.Contains(got[0], "Resource:*") {
			t.Errorf("stop-api: %s on %v, want one statement on resources with %q", tc.action, got, tc.resourceHas)
		}
		if tc.action == "sagemaker:DescribePipeline" && strings.Contains(got[0], "/execution/") {
			t.Errorf("stop-api: DescribePipeline on executions %v, want pipelines", got)
		}
		for _, other := range []string{"StopQueueFunction", "CallbackFunction", "StatusEventsFunction", "SweeperFunction"} {
			if r := resourcesOf(other, tc.action); len(r) > 0 {
				t.Errorf("%s has %s on %v; only stop-api calls it", other, tc.action, r)
			}
		}
	}
}
