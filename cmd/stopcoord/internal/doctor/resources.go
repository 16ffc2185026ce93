package doctor

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// run is one doctor run: what it created, in order, and what it found.
type run struct {
	deps   Deps
	cfg    Config
	name   string
	report *Report
	undo   []undo // what to delete, newest last
}

type undo struct {
	what string
	do   func(context.Context) error
}

func (r *run) created(what string, do func(context.Context) error) {
	r.report.Created = append(r.report.Created, what)
	r.undo = append(r.undo, undo{what, do})
}

// cleanup deletes what the run created, newest first, and records what
// could not be deleted.
func (r *run) cleanup(ctx context.Context) {
	for i := len(r.undo) - 1; i >= 0; i-- {
		u := r.undo[i]
		if err := u.do(ctx); err != nil {
			r.report.CleanupErrors = append(r.report.CleanupErrors, fmt.Errorf("delete %s: %w", u.what, err))
			r.logf("could not delete %s: %v", u.what, err)
			continue
		}
		r.report.Deleted = append(r.report.Deleted, u.what)
		r.logf("deleted %s", u.what)
	}
	r.undo = nil
}

func (r *run) createQueue(ctx context.Context) (string, error) {
	out, err := r.deps.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(r.name),
		Attributes: map[string]string{string(sqstypes.QueueAttributeNameMessageRetentionPeriod): "3600"}})
	if err != nil {
		return "", fmt.Errorf("create queue %s: %w", r.name, err)
	}
	url := aws.ToString(out.QueueUrl)
	r.created("SQS queue "+url, func(ctx context.Context) error {
		_, err := r.deps.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)})
		return err
	})
	r.logf("created SQS queue %s", url)
	return url, nil
}

// functionCode is the temporary function: it sleeps as long as its event
// says, so one function serves both Lambda probes.
const functionCode = `import time


def handler(event, context):
    time.sleep(float(event.get("sleepSeconds", "0")))
    return {}
`

func functionZip() ([]byte, error) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	f, err := w.Create("index.py")
	if err != nil {
		return nil, err
	}
	if _, err := f.Write([]byte(functionCode)); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (r *run) createFunction(ctx context.Context) (string, error) {
	code, err := functionZip()
	if err != nil {
		return "", fmt.Errorf("zip the function's code: %w", err)
	}
	timeout := max(r.cfg.LambdaSleep, 2*r.cfg.LambdaTimeout) + 30*time.Second
	timeout = min(timeout, 15*time.Minute)
	var out *lambda.CreateFunctionOutput
	// A just-created role can take seconds to become assumable by Lambda.
	for attempt := 0; ; attempt++ {
		out, err = r.deps.Lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
			FunctionName: aws.String(r.name),
			Runtime:      lambdatypes.RuntimePython312,
			Handler:      aws.String("index.handler"),
			Role:         aws.String(r.cfg.LambdaRoleARN),
			Code:         &lambdatypes.FunctionCode{ZipFile: code},
			Timeout:      aws.Int32(int32(timeout / time.Second)),
			Description:  aws.String("stopcoord doctor: throwaway function, deleted when the doctor ends"),
		})
		if err == nil || attempt == 5 || !strings.Contains(err.Error(), "cannot be assumed") {
			break
		}
		if err := sleep(ctx, 5*time.Second); err != nil {
			return "", err
		}
	}
	if err != nil {
		return "", fmt.Errorf("create function %s: %w", r.name, err)
	}
	arn := aws.ToString(out.FunctionArn)
	r.created("Lambda function "+arn, func(ctx context.Context) error {
		_, err := r.deps.Lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(r.name)})
		return err
	})
	r.logf("created Lambda function %s", arn)
	if err := lambda.NewFunctionActiveV2Waiter(r.deps.Lambda).Wait(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(r.name)}, 5*time.Minute); err != nil {
		return "", fmt.Errorf("wait for function %s to be active: %w", r.name, err)
	}
	return arn, nil
}

// createPipeline creates a pipeline of the given steps and registers its
// deletion, which first ends any execution still running.
func (r *run) createPipeline(ctx context.Context, name, definition string) error {
	_, err := r.deps.SageMaker.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{
		PipelineName:        aws.String(name),
		PipelineDefinition:  aws.String(definition),
		RoleArn:             aws.String(r.cfg.RoleARN),
		ClientRequestToken:  aws.String(token(name, "create")),
		PipelineDescription: aws.String("stopcoord doctor: throwaway pipeline, deleted when the doctor ends"),
	})
	if err != nil {
		return fmt.Errorf("create pipeline %s: %w", name, err)
	}
	r.created("pipeline "+name, func(ctx context.Context) error {
		_, err := r.deps.SageMaker.DeletePipeline(ctx, &sagemaker.DeletePipelineInput{PipelineName: aws.String(name), ClientRequestToken: aws.String(token(name, "delete"))})
		return err
	})
	r.logf("created pipeline %s", name)
	return nil
}

// start starts an execution and registers its stop (a no-op once it has
// ended), so cleanup never deletes a pipeline under a running execution.
func (r *run) start(ctx context.Context, pipelineName string) (string, error) {
	out, err := r.deps.SageMaker.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{
		PipelineName: aws.String(pipelineName), ClientRequestToken: aws.String(token(pipelineName, "start")),
	})
	if err != nil {
		return "", fmt.Errorf("start pipeline %s: %w", pipelineName, err)
	}
	arn := aws.ToString(out.PipelineExecutionArn)
	r.created("execution "+arn, func(ctx context.Context) error { return r.endExecution(ctx, arn) })
	r.logf("started %s", arn)
	return arn, nil
}

// endExecution stops an execution the run left running and answers its
// open callbacks, then waits for it to end.
func (r *run) endExecution(ctx context.Context, arn string) error {
	status, err := r.status(ctx, arn)
	if err != nil {
		return err
	}
	if terminal(status) {
		return nil
	}
	if status == smtypes.PipelineExecutionStatusExecuting {
		if _, err := r.deps.SageMaker.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{PipelineExecutionArn: aws.String(arn), ClientRequestToken: aws.String(token(arn, "cleanup-stop"))}); err != nil && errorCode(err) != "ConflictException" {
			return fmt.Errorf("stop %s: %w", arn, err)
		}
	}
	steps, err := r.deps.SageMaker.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("list the steps of %s: %w", arn, err)
	}
	for _, s := range steps.PipelineExecutionSteps {
		if s.Metadata != nil && s.Metadata.Callback != nil && !stepTerminal(s.StepStatus) {
			tok := aws.ToString(s.Metadata.Callback.CallbackToken)
			r.deps.SageMaker.SendPipelineExecutionStepFailure(ctx, &sagemaker.SendPipelineExecutionStepFailureInput{
				CallbackToken: aws.String(tok), FailureReason: aws.String("stopcoord doctor cleanup"), ClientRequestToken: aws.String(token(tok, "cleanup-answer")),
			})
		}
	}
	_, err = r.waitTerminal(ctx, arn)
	return err
}

func (r *run) status(ctx context.Context, arn string) (smtypes.PipelineExecutionStatus, error) {
	out, err := r.deps.SageMaker.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		return "", fmt.Errorf("describe %s: %w", arn, err)
	}
	return out.PipelineExecutionStatus, nil
}

func (r *run) waitTerminal(ctx context.Context, arn string) (smtypes.PipelineExecutionStatus, error) {
	for {
		status, err := r.status(ctx, arn)
		if err != nil || terminal(status) {
			return status, err
		}
		if err := sleep(ctx, r.cfg.Poll); err != nil {
			return status, fmt.Errorf("wait for %s to end: %w", arn, err)
		}
	}
}

func terminal(s smtypes.PipelineExecutionStatus) bool {
	switch s {
	case smtypes.PipelineExecutionStatusStopped, smtypes.PipelineExecutionStatusFailed, smtypes.PipelineExecutionStatusSucceeded:
		return true
	}
	return false
}

func stepTerminal(s smtypes.StepStatus) bool {
	switch s {
	case smtypes.StepStatusStopped, smtypes.StepStatusFailed, smtypes.StepStatusSucceeded:
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
