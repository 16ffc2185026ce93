package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestStoppedExecutionEndsTheStepEarly runs the example as the Lambda step
// of an emulated pipeline, talking to the emulator through the real SDK
// client, and stops the execution while it works.
func TestStoppedExecutionEndsTheStepEarly(t *testing.T) {
	results := make(chan Result, 1)
	var w *worker
	fn := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := lambda.NewHandler(w.handle).Invoke(r.Context(), body)
		if err != nil {
			t.Errorf("handler: %v", err)
		}
		var res Result
		json.Unmarshal(out, &res)
		results <- res
		rw.Write(out)
	}))
	defer fn.Close()
	srv := emulatortest.StartT(t, emulator.Options{Lambda: map[string]emulator.LambdaEndpoint{"*": {URL: fn.URL}}})
	w = &worker{sm: srv.Client, interval: 20 * time.Millisecond, perItem: 10 * time.Millisecond}

	ctx := context.Background()
	def := `{"Version":"2020-12-01","Parameters":[],"Steps":[{"Name":"Work","Type":"Lambda","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:example","Timeout":600,` +
		`"Arguments":{"executionArn":{"Get":"Execution.PipelineExecutionArn"},"items":100000},"OutputParameters":[]}]}`
	if _, err := srv.Client.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("lambda-example"), PipelineDefinition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/p"), ClientRequestToken: aws.String(fmt.Sprintf("%032d", 1))}); err != nil {
		t.Fatal(err)
	}
	start, err := srv.Client.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("lambda-example"), ClientRequestToken: aws.String(fmt.Sprintf("%032d", 2))})
	if err != nil {
		t.Fatal(err)
	}
	arn := start.PipelineExecutionArn
	time.Sleep(100 * time.Millisecond) // let the step work a little
	stopped := time.Now()
	if _, err := srv.Client.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: arn, ClientRequestToken: aws.String(fmt.Sprintf("%032d", 3))}); err != nil {
		t.Fatal(err)
	}
	var res Result
	select {
	case res = <-results:
	case <-time.After(10 * time.Second):
		t.Fatal("the step did not end after the stop")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, err := srv.Client.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: arn})
		if err != nil {
			t.Fatal(err)
		}
		if out.PipelineExecutionStatus == smtypes.PipelineExecutionStatusStopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("execution is %s, want Stopped", out.PipelineExecutionStatus)
		}
	}
	if !res.StoppedEarly || res.Processed == 0 || res.Processed >= 100000 {
		t.Fatalf("result %+v, want some items processed and an early end", res)
	}
	t.Logf("the step ended %s after the stop, with %d items done; the execution is Stopped, not Failed", time.Since(stopped).Round(time.Millisecond), res.Processed)
}

func TestSampleEventRunsToCompletion(t *testing.T) {
	raw, err := samples.FS.ReadFile("lambdastep/example.json")
	if err != nil {
		t.Fatal(err)
	}
	running := describeFunc(func() smtypes.PipelineExecutionStatus { return smtypes.PipelineExecutionStatusExecuting })
	w := &worker{sm: running, interval: time.Millisecond, perItem: time.Microsecond}
	out, err := lambda.NewHandler(w.handle).Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var res Result
	if err := json.Unmarshal(out, &res); err != nil || res.Processed != 200 || res.StoppedEarly {
		t.Fatalf("result %s (%v), want all 200 items", out, err)
	}
}

type describeFunc func() smtypes.PipelineExecutionStatus

func (f describeFunc) DescribePipelineExecution(context.Context, *sagemaker.DescribePipelineExecutionInput, ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error) {
	return &sagemaker.DescribePipelineExecutionOutput{PipelineExecutionStatus: f()}, nil
}
