package callback_test

import (
	"testing"

	"github.com/stopcoord/stopcoord/shared/callback"
)

func BenchmarkParse(b *testing.B) {
	body := `{"token":"26vcYbeWsZ","pipelineExecutionArn":"` + arn + `","arguments":{"stopcoord_sfn_execution_arn":"arn:aws:states:us-east-1:123456789012:execution:etl:run-1","rows":5},"status":"Stopping"}`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := callback.Parse(body); err != nil {
			b.Fatal(err)
		}
	}
}
