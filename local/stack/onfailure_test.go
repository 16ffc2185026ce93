package stack

import (
	"encoding/json"
	"testing"
)

// TestOnFailure reads a function's on-failure queue the way CDK writes it
// (ConfigureAsyncInvoke with an SqsDestination).
func TestOnFailure(t *testing.T) {
	var tmpl Template
	if err := json.Unmarshal([]byte(`{"Resources": {
		"Failed1": {"Type": "AWS::SQS::Queue", "Properties": {}},
		"Fn1": {"Type": "AWS::Lambda::Function", "Properties": {}},
		"Fn2": {"Type": "AWS::Lambda::Function", "Properties": {}},
		"Fn1Config": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
			"DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Failed1", "Arn"]}}},
			"FunctionName": {"Ref": "Fn1"}, "MaximumRetryAttempts": 1, "Qualifier": "$LATEST"}}
	}}`), &tmpl); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		fn           string
		wantQueue    string
		wantAttempts int
	}{
		{"Fn1", "Failed1", 2},
		{"Fn2", "", 0},
	}
	for _, tt := range tests {
		if q, n := tmpl.OnFailure(tt.fn); q != tt.wantQueue || n != tt.wantAttempts {
			t.Errorf("OnFailure(%s) = %q, %d; want %q, %d", tt.fn, q, n, tt.wantQueue, tt.wantAttempts)
		}
	}
}
