package emulator

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// BenchmarkCheckRequest measures what holding a request to the service model
// costs: a typical StartPipelineExecution, and a CreatePipeline with a
// definition near the 1 MiB limit (the largest member the model checks
// against a pattern).
func BenchmarkCheckRequest(b *testing.B) {
	start, _ := json.Marshal(map[string]any{
		"PipelineName": "pipe", "ClientRequestToken": strings.Repeat("t", 36), "PipelineExecutionDisplayName": "run-1",
		"PipelineParameters":       []any{map[string]any{"Name": "Label", "Value": "x"}, map[string]any{"Name": "Threshold", "Value": "0.5"}},
		"ParallelismConfiguration": map[string]any{"MaxParallelExecutionSteps": 4},
	})
	step := `{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"img"}}},` + "\n"
	create, _ := json.Marshal(map[string]any{
		"PipelineName": "pipe", "ClientRequestToken": strings.Repeat("t", 36),
		"RoleArn":            "arn:aws:iam::123456789012:role/pipeline",
		"PipelineDefinition": strings.Repeat(step, (1<<20)/len(step)-1),
	})
	for _, bc := range []struct {
		name, op string
		body     []byte
	}{{"StartPipelineExecution", "StartPipelineExecution", start}, {"CreatePipeline 1MiB", "CreatePipeline", create}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(bc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := checkRequest(bc.op, bc.body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPatternsThatAcceptEverything backs the shortcut: each pattern it
// skips does match strings of every kind RE2 can be asked about.
func TestPatternsThatAcceptEverything(t *testing.T) {
	for p := range acceptsEverything {
		re := regexp.MustCompile(`^(?:` + p + `)$`)
		for _, s := range []string{"", "a", "\n", "\r\n\t ", "{\"a\":\n\t1}\n", "ü\u2028\x00", strings.Repeat("x\n", 100)} {
			if !re.MatchString(s) {
				t.Errorf("pattern %s does not match %q", p, s)
			}
		}
	}
}
