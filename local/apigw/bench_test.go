package apigw

import (
	"testing"
)

// BenchmarkVerify is the local gateway's cost of checking one SigV4
// signature (a POST with a small body).
func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"reason":"cost"}`)
	req := signed(b, "POST", "http://api.local:3000/pipelines/train/executions/p4jn9xou8a8s/stops", body, creds, "us-east-1", signingTime)
	v := verifier()
	b.ReportAllocs()
	for b.Loop() {
		if _, refusal := v.Verify(req, body); refusal != nil {
			b.Fatal(refusal)
		}
	}
}
