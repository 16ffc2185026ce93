package emulatortest_test

import (
	"context"
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
