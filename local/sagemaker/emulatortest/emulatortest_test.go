package emulatortest_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

func TestStartT(t *testing.T) {
	srv := emulatortest.StartT(t, emulator.Options{TimeScale: 0.001})
	out, err := srv.Client.ListPipelines(context.Background(), &sagemaker.ListPipelinesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PipelineSummaries) != 0 || out.NextToken != nil {
		t.Errorf("fresh emulator lists %+v, want nothing", out)
	}
}

// TestEventLinesLeavesAHalfWrittenLine: the emulator appends while tests
// read; a last line without its newline is not an event yet.
func TestEventLinesLeavesAHalfWrittenLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	for _, tc := range []struct {
		content string
		want    []string
	}{
		{"", nil},
		{`{"id":"a"`, nil},
		{"{\"id\":\"a\"}\n{\"id\":\"b\"", []string{`{"id":"a"}`}},
		{"{\"id\":\"a\"}\n\n{\"id\":\"b\"}\n", []string{`{"id":"a"}`, `{"id":"b"}`}},
	} {
		if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		lines, err := emulatortest.EventLines(path)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range lines {
			got = append(got, string(l))
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("lines of %q = %q, want %q", tc.content, got, tc.want)
		}
	}
}

// TestDefinitionBuilder pins the JSON the builder writes, as CreatePipeline
// reads it.
func TestDefinitionBuilder(t *testing.T) {
	cb := emulatortest.Callback("Wait", "http://q").After("Train")
	doc := emulatortest.Pipeline(
		emulatortest.Job("Train", "Training").Duration(5).FailWith("boom").StopDelay(7),
		cb,
		cb.Outputs(emulatortest.Output{Name: "o", Type: "String"}).Args(map[string]any{"k": 1}),
	).Param("Label", "String", "x").Param("N", "Integer", nil).JSON()
	want := `{"Metadata":{},"Parameters":[{"DefaultValue":"x","Name":"Label","Type":"String"},{"Name":"N","Type":"Integer"}],` +
		`"Steps":[{"Arguments":{},"Name":"Train","Type":"Training","x-emulator":{"durationMs":5,"fail":"boom","stopDelayMs":7}},` +
		`{"Arguments":{},"DependsOn":["Train"],"Name":"Wait","OutputParameters":[],"SqsQueueUrl":"http://q","Type":"Callback"},` +
		`{"Arguments":{"k":1},"DependsOn":["Train"],"Name":"Wait","OutputParameters":[{"OutputName":"o","OutputType":"String"}],"SqsQueueUrl":"http://q","Type":"Callback"}],` +
		`"Version":"2020-12-01"}`
	if doc != want {
		t.Errorf("definition\n%s\nwant\n%s", doc, want)
	}
	if _, ok := cb["OutputParameters"].([]any); !ok {
		t.Error("Outputs changed the step it was called on; steps must be copied")
	}
}
