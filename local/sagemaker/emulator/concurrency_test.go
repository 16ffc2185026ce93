package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestFiftyConcurrentExecutions starts 50 executions at once; a consumer
// answers the even ones and stops the odd ones (answering their Stopping
// message), all concurrently. Run it under -race.
func TestFiftyConcurrentExecutions(t *testing.T) {
	t.Parallel()
	const n = 50
	e := newEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("Prep", "Processing").Duration(5), emulatortest.Callback("Wait", e.queueURL).After("Prep")).JSON())

	arns := make([]string, n)
	index := map[string]int{}
	var wg sync.WaitGroup
	var mu sync.Mutex
	errs := make(chan error, 4*n)
	for i := range n {
		wg.Go(func() {
			out, err := e.sm.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(pipe)})
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			arns[i], index[*out.PipelineExecutionArn] = *out.PipelineExecutionArn, i
			mu.Unlock()
		})
	}
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("start: %v", err)
	default:
	}

	answered := 0
	emulatortest.WaitFor(t, func() (bool, string) {
		out, err := e.sqs.ReceiveMessage(e.ctx, receiveInput(e.queueURL, 1))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			_, _ = e.sqs.DeleteMessage(e.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(e.queueURL), ReceiptHandle: m.ReceiptHandle})
			var msg callbackMessage
			if err := json.Unmarshal([]byte(*m.Body), &msg); err != nil {
				t.Fatal(err)
			}
			arn, token, status := msg["pipelineExecutionArn"].(string), msg["token"].(string), msg["status"]
			mu.Lock()
			i := index[arn]
			mu.Unlock()
			answered++
			wg.Go(func() {
				var err error
				switch {
				case status == "Stopping":
					_, err = e.sm.SendPipelineExecutionStepFailure(e.ctx, &sagemaker.SendPipelineExecutionStepFailureInput{CallbackToken: aws.String(token), FailureReason: aws.String("stopped")})
				case i%2 == 0:
					_, err = e.sm.SendPipelineExecutionStepSuccess(e.ctx, &sagemaker.SendPipelineExecutionStepSuccessInput{CallbackToken: aws.String(token)})
				default:
					_, err = e.sm.StopPipelineExecution(e.ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
				}
				if err != nil {
					errs <- fmt.Errorf("execution %d (%s): %w", i, status, err)
				}
			})
		}
		return answered >= n+n/2, fmt.Sprintf("answered %d of %d callback messages", answered, n+n/2)
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, arn := range arns {
		want := smtypes.PipelineExecutionStatusSucceeded
		if i%2 == 1 {
			want = smtypes.PipelineExecutionStatusStopped
		}
		e.waitStatus(arn, want)
	}
	// One terminal event per execution, in the file.
	emulatortest.WaitFor(t, func() (bool, string) {
		terminal := 0
		for _, ev := range e.fileEvents() {
			if s := ev.Detail["currentPipelineExecutionStatus"]; s == "Succeeded" || s == "Stopped" {
				terminal++
			}
		}
		return terminal == n, fmt.Sprintf("%d terminal execution events, want %d", terminal, n)
	})
}

// TestCloseEndsEveryGoroutine closes an emulator with executions blocked in
// every kind of step and checks that nothing it started keeps running.
func TestCloseEndsEveryGoroutine(t *testing.T) {
	// Not parallel: it counts the process's goroutines.
	f := newLambda(t, true, func(map[string]any) string { return `{}` })
	e := newEnv(t, withLambda(f.srv.URL))
	before := runtime.NumGoroutine()

	emu, err := emulator.New(emulator.Options{
		// Real time: the job and the Lambda step must still be blocked
		// when Close comes, however busy the machine.
		SQSEndpoint: sharedMoto(t).URL, TimeScale: 1,
		Lambda: map[string]emulator.LambdaEndpoint{"*": {URL: f.srv.URL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	url, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c := sagemaker.NewFromConfig(e.cfg, func(o *sagemaker.Options) {
		o.BaseEndpoint = aws.String(url)
		o.HTTPClient = &http.Client{Transport: tr}
	})
	def := emulatortest.Pipeline(emulatortest.Callback("Wait", e.queueURL), emulatortest.Job("Job", "Training").Duration(longJob), emulatortest.Lambda("Fn", functionArn, 600).Args(lambdaArgs).Outputs(answerOutput)).JSON()
	if _, err := c.CreatePipeline(e.ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("p"), PipelineDefinition: aws.String(def), RoleArn: aws.String(roleArn)}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := c.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String("p")}); err != nil {
			t.Fatal(err)
		}
	}
	e.callbackMessages(5)
	if err := emu.Close(context.Background()); err != nil {
		t.Fatalf("close: %v", err)
	}
	tr.CloseIdleConnections()
	emulatortest.WaitFor(t, func() (bool, string) {
		now := runtime.NumGoroutine()
		return now <= before, fmt.Sprintf("%d goroutines after Close, %d before the emulator", now, before)
	})
	if _, err := c.ListPipelines(e.ctx, &sagemaker.ListPipelinesInput{}, func(o *sagemaker.Options) { o.RetryMaxAttempts = 1 }); err == nil {
		t.Error("the closed emulator still answers")
	}
}
