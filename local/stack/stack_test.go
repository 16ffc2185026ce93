package stack

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRouteMatch(t *testing.T) {
	tests := []struct {
		key, method, path string
		want              map[string]string // nil: no match
	}{
		{"POST /stops", "POST", "/stops", map[string]string{}},
		{"POST /stops", "GET", "/stops", nil},
		{"POST /stops", "POST", "/stops/extra", nil},
		{"GET /stops/{id}", "GET", "/stops/stop-1", map[string]string{"id": "stop-1"}},
		{"GET /stops/{id}", "GET", "/stops/", nil},
		{"GET /executions/{executionArn}", "GET", "/executions/arn%3Aaws%3Asagemaker%2Fx", map[string]string{"executionArn": "arn%3Aaws%3Asagemaker%2Fx"}},
		{"POST /pipelines/{name}/stops", "POST", "/pipelines/train/stops", map[string]string{"name": "train"}},
		{"GET /files/{path+}", "GET", "/files/a/b/c", map[string]string{"path": "a/b/c"}},
	}
	for _, tt := range tests {
		got, ok := newRoute(tt.key, nil).match(tt.method, tt.path)
		if (tt.want == nil) != !ok {
			t.Errorf("%s matched %s %s = %v, want match=%v", tt.key, tt.method, tt.path, ok, tt.want != nil)
			continue
		}
		for k, v := range tt.want {
			if got[k] != v {
				t.Errorf("%s on %s: param %s = %q, want %q", tt.key, tt.path, k, got[k], v)
			}
		}
	}
}

func TestResolve(t *testing.T) {
	p := physical{}
	p.set("Queue", "", "http://127.0.0.1:1/123456789012/q")
	p.set("Queue", "Arn", "arn:aws:sqs:us-east-1:123456789012:q")
	tests := []struct {
		in   any
		want string
	}{
		{"plain", "plain"},
		{map[string]any{"Ref": "AWS::AccountId"}, "123456789012"},
		{map[string]any{"Ref": "Queue"}, "http://127.0.0.1:1/123456789012/q"},
		{map[string]any{"Fn::GetAtt": []any{"Queue", "Arn"}}, "arn:aws:sqs:us-east-1:123456789012:q"},
		{map[string]any{"Fn::Join": []any{"/", []any{"a", map[string]any{"Ref": "AWS::Region"}}}}, "a/us-east-1"},
		{10.0, "10"},
	}
	for _, tt := range tests {
		got, err := p.resolve(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("resolve(%v) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := p.resolve(map[string]any{"Ref": "Missing"}); err == nil {
		t.Error("a reference to nothing resolved")
	}
}

// TestResolveAll resolves the intrinsics inside an event pattern (the
// Stop Requested rule names its account) and leaves the rest as it is.
func TestResolveAll(t *testing.T) {
	pattern := map[string]any{
		"account":     []any{map[string]any{"Ref": "AWS::AccountId"}},
		"source":      []any{"stopcoord"},
		"detail-type": []any{"Stop Requested"},
		"detail":      map[string]any{"pipelineName": []any{map[string]any{"prefix": "sec-"}}},
	}
	got, err := physical{}.resolveAll(pattern)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(got)
	want := `{"account":["123456789012"],"detail":{"pipelineName":[{"prefix":"sec-"}]},"detail-type":["Stop Requested"],"source":["stopcoord"]}`
	if string(raw) != want {
		t.Fatalf("resolveAll = %s, want %s", raw, want)
	}
	if _, err := (physical{}).resolveAll([]any{map[string]any{"Ref": "Missing"}}); err == nil {
		t.Error("a reference to nothing resolved")
	}
}

func TestRate(t *testing.T) {
	for expr, want := range map[string]time.Duration{"rate(1 minute)": time.Minute, "rate(5 minutes)": 5 * time.Minute, "rate(2 hours)": 2 * time.Hour} {
		if got, err := rate(expr); err != nil || got != want {
			t.Errorf("rate(%q) = %v, %v; want %v", expr, got, err, want)
		}
	}
	if _, err := rate("cron(0 2 * * ? *)"); err == nil {
		t.Error("cron accepted")
	}
}

func TestTableInput(t *testing.T) {
	props := map[string]any{
		"KeySchema":            []any{map[string]any{"AttributeName": "pk", "KeyType": "HASH"}, map[string]any{"AttributeName": "sk", "KeyType": "RANGE"}},
		"AttributeDefinitions": []any{map[string]any{"AttributeName": "pk", "AttributeType": "S"}, map[string]any{"AttributeName": "sk", "AttributeType": "S"}},
		"GlobalSecondaryIndexes": []any{map[string]any{"IndexName": "lookup", "KeySchema": []any{map[string]any{"AttributeName": "lookupKey", "KeyType": "HASH"}},
			"Projection": map[string]any{"ProjectionType": "ALL"}}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "expiresAt", "Enabled": true},
	}
	in, ttl, err := tableInput("t", props)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.KeySchema) != 2 || *in.KeySchema[1].AttributeName != "sk" || len(in.GlobalSecondaryIndexes) != 1 || *in.GlobalSecondaryIndexes[0].IndexName != "lookup" {
		t.Fatalf("create input %+v", in)
	}
	if ttl == nil || *ttl.TimeToLiveSpecification.AttributeName != "expiresAt" {
		t.Fatalf("ttl %+v", ttl)
	}
}

// TestPollerConcurrency: Lambda's five batches at a time, or the mapping's
// MaximumConcurrency, never above the function's reserved concurrency.
func TestPollerConcurrency(t *testing.T) {
	fn := func(name string, reserved float64) Resource {
		props := map[string]any{"Tags": []any{map[string]any{"Key": functionTag, "Value": name}}}
		if reserved > 0 {
			props["ReservedConcurrentExecutions"] = reserved
		}
		return Resource{Type: "AWS::Lambda::Function", Properties: props}
	}
	mapping := func(fnID string, maxConcurrency float64) Resource {
		props := map[string]any{"FunctionName": map[string]any{"Ref": fnID}}
		if maxConcurrency > 0 {
			props["ScalingConfig"] = map[string]any{"MaximumConcurrency": maxConcurrency}
		}
		return Resource{Type: "AWS::Lambda::EventSourceMapping", Properties: props}
	}
	tpl := &Template{Resources: map[string]Resource{
		"Plain": fn("plain", 0), "PlainMap": mapping("Plain", 0),
		"Capped": fn("capped", 0), "CappedMap": mapping("Capped", 2),
		"Reserved": fn("reserved", 3), "ReservedMap": mapping("Reserved", 0),
		"Both": fn("both", 1), "BothMap": mapping("Both", 2),
		"Unfed": fn("unfed", 0),
	}}
	for name, want := range map[string]int{"plain": 5, "capped": 2, "reserved": 3, "both": 1, "unfed": 0} {
		if got := tpl.PollerConcurrency(name); got != want {
			t.Errorf("PollerConcurrency(%s) = %d, want %d", name, got, want)
		}
	}
}
