package emulator_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// BenchmarkDescribePipelineExecution measures one request through the SDK
// client, the HTTP server and the wire layer.
func BenchmarkDescribePipelineExecution(b *testing.B) {
	e := newBareEnv(b)
	arn := e.start(e.createPipeline(emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).JSON()))
	in := &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.sm.DescribePipelineExecution(e.ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
