package emulator_test

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

// Start the emulator, point the unmodified SDK client at it, run a pipeline
// with a simulated training job and stop it.
func Example() {
	ctx := context.Background()
	emu, err := emulator.New(emulator.Options{TimeScale: 0.001}) // a modelled second is a millisecond
	if err != nil {
		panic(err)
	}
	defer emu.Close(ctx)
	url, err := emu.Start("127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	cfg, _ := localaws.Config(ctx)
	sm := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(url) })

	def := `{"Version":"2020-12-01","Steps":[{"Name":"Train","Type":"Training","Arguments":{},
	  "x-emulator":{"durationMs":3600000,"stopDelayMs":5000}}]}`
	_, _ = sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("demo"),
		PipelineDefinition: aws.String(def), RoleArn: aws.String("arn:aws:iam::123456789012:role/demo")})
	run, _ := sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("demo")})
	_, _ = sm.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: run.PipelineExecutionArn})

	for status := smtypes.PipelineExecutionStatusStopping; ; time.Sleep(5 * time.Millisecond) {
		d, _ := sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: run.PipelineExecutionArn})
		if d.PipelineExecutionStatus != status {
			fmt.Println(d.PipelineExecutionStatus)
			break
		}
	}
	// Output: Stopped
}
