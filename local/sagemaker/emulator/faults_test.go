package emulator_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

func withFaults(f map[string]emulator.Fault) envOption {
	return func(o *emulator.Options) { o.Faults = f }
}

func noRetries(o *sagemaker.Options) { o.RetryMaxAttempts = 1 }

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		fault      emulator.Fault
		wantCode   string
		wantStatus int
	}{
		{"throttling", emulator.Fault{ThrottleRate: 1}, "ThrottlingException", http.StatusBadRequest},
		{"5xx", emulator.Fault{ServerErrorRate: 1}, "InternalFailure", http.StatusInternalServerError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newBareEnv(t, withFaults(map[string]emulator.Fault{"ListPipelines": tc.fault}))
			_, err := e.client(noRetries).ListPipelines(e.ctx, &sagemaker.ListPipelinesInput{})
			checkCode(t, err, tc.wantCode)
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
				t.Errorf("HTTP status of %v, want %d", err, tc.wantStatus)
			}
			// Other operations are untouched.
			if _, err := e.sm.DescribePipeline(e.ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String("none")}); err == nil {
				t.Error("describe of a missing pipeline succeeded")
			} else {
				checkCode(t, err, "ResourceNotFound")
			}
		})
	}
	t.Run("default retries recover", func(t *testing.T) {
		t.Parallel()
		// Seeded: the same requests see the same faults on every run.
		e := newBareEnv(t, withFaults(map[string]emulator.Fault{"*": {ServerErrorRate: 0.5}}))
		// The standard retryer with more attempts than the default three.
		c := e.client(func(o *sagemaker.Options) { o.RetryMaxAttempts = 10 })
		for i := range 10 {
			if _, err := c.ListPipelines(e.ctx, &sagemaker.ListPipelinesInput{}); err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
		}
	})
	t.Run("latency", func(t *testing.T) {
		t.Parallel()
		e := newBareEnv(t, withFaults(map[string]emulator.Fault{"ListPipelines": {Latency: 80 * time.Millisecond}}))
		start := time.Now()
		if _, err := e.sm.ListPipelines(e.ctx, &sagemaker.ListPipelinesInput{}); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 80*time.Millisecond {
			t.Errorf("call took %s, want at least the injected 80ms", took)
		}
	})
}

func TestResourceLimitExceeded(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t, func(o *emulator.Options) { o.MaxRunningExecutions = 1; o.MaxPipelines = 1 })
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("Long", "Processing").Duration(longJob)).JSON())
	arn := e.start(pipe)
	_, err := e.sm.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(pipe)})
	checkCode(t, err, "ResourceLimitExceeded")
	_, err = e.sm.CreatePipeline(e.ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("second"),
		PipelineDefinition: aws.String(emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).JSON()), RoleArn: aws.String(roleArn)})
	checkCode(t, err, "ResourceLimitExceeded")
	e.stop(arn)
	e.waitStatus(arn, "Stopped")
}
