package main

import (
	"strings"
	"testing"

	samples "github.com/stopcoord/stopcoord/events"
)

// TestSeveralAccountsNeedAnAccount: with more than one allowed account a
// pipeline name and an execution id are ambiguous, so ?account= is needed.
func TestSeveralAccountsNeedAnAccount(t *testing.T) {
	home := executionHome{Region: "eu-west-1", Accounts: []string{"123456789012", "210987654321"}}
	tests := []struct {
		sample, wantARN string
		wantStatus      int
	}{
		{"get-pipeline-execution.json", "", 400},
		{"get-pipeline-execution-other-account.json", "arn:aws:sagemaker:eu-west-1:210987654321:pipeline/train-model/execution/p4jn9xou8a8s", 200},
	}
	for _, tt := range tests {
		raw, _ := samples.FS.ReadFile("apigw/" + tt.sample)
		f := &fakeCoordinator{}
		resp := invokeChecked(t, &handler{coord: f, maxBodyBytes: DefaultMaxBodyBytes, home: home}, raw)
		if resp.StatusCode != tt.wantStatus || f.viewArn != tt.wantARN {
			t.Errorf("%s: %d %s, coordinator asked for %q; want %d and %q", tt.sample, resp.StatusCode, resp.Body, f.viewArn, tt.wantStatus, tt.wantARN)
		}
		if tt.wantStatus == 400 && !strings.Contains(resp.Body, "?account=") {
			t.Errorf("%s: the refusal does not say how to name the account: %s", tt.sample, resp.Body)
		}
	}
}
