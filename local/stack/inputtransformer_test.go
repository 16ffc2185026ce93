package stack

import (
	"encoding/json"
	"testing"
	"time"
)

func TestInputTransformerRendersTheScheduledStopEnvelope(t *testing.T) {
	// As CDK renders RuleTargetInput.fromObject with EventField values.
	target := map[string]any{"InputTransformer": map[string]any{
		"InputPathsMap": map[string]any{"account": "$.account", "id": "$.id", "region": "$.region", "time": "$.time"},
		"InputTemplate": `{"account":<account>,"detail":{"pipelineName":"nightly","note":"run <id>"},"detail-type":"Stop Requested","id":<id>,"region":<region>,"source":"stopcoord","time":<time>,"version":"0"}`,
	}}
	tr, err := readInputTransformer(target)
	if err != nil || tr == nil {
		t.Fatalf("read: %v, %v", tr, err)
	}
	out, err := tr.apply(scheduledEvent("Nightly", time.Date(2026, 1, 2, 22, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := map[string]any{"account": "123456789012", "region": "us-east-1", "time": "2026-01-02T22:00:00Z", "detail-type": "Stop Requested", "source": "stopcoord"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (%s)", k, got[k], v, out)
		}
	}
	id, _ := got["id"].(string)
	if id == "" || got["detail"].(map[string]any)["note"] != "run "+id { // inside a string: the text
		t.Errorf("id %q, detail %v", id, got["detail"])
	}
}

func TestInputTransformerAbsentOrBroken(t *testing.T) {
	if tr, err := readInputTransformer(map[string]any{"Arn": "x"}); tr != nil || err != nil {
		t.Fatalf("no transformer: got %v, %v", tr, err)
	}
	if _, err := readInputTransformer(map[string]any{"InputTransformer": map[string]any{"InputPathsMap": map[string]any{}}}); err == nil {
		t.Fatal("a transformer without a template was accepted")
	}
	tr, _ := readInputTransformer(map[string]any{"InputTransformer": map[string]any{"InputTemplate": `{"a":<missing>`}})
	if _, err := tr.apply([]byte(`{}`)); err == nil {
		t.Fatal("a template that renders to broken JSON was accepted")
	}
}
