// Package doctor turns the assumptions stopcoord and its SageMaker
// emulator make about undocumented SageMaker Pipelines behaviour into
// facts, in the user's own account. It creates a throwaway pipeline with a
// callback step (on a temporary SQS queue) and a Lambda step (a temporary
// function), starts and stops it, observes each open behaviour listed in
// local/sagemaker/README.md, and names the emulator setting that matches.
// Everything it creates is deleted again, also when the context is
// cancelled (Ctrl-C).
package doctor

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SageMaker is the pipeline operations the doctor calls;
// *sagemaker.Client satisfies it.
type SageMaker interface {
	CreatePipeline(ctx context.Context, in *sagemaker.CreatePipelineInput, opts ...func(*sagemaker.Options)) (*sagemaker.CreatePipelineOutput, error)
	DeletePipeline(ctx context.Context, in *sagemaker.DeletePipelineInput, opts ...func(*sagemaker.Options)) (*sagemaker.DeletePipelineOutput, error)
	StartPipelineExecution(ctx context.Context, in *sagemaker.StartPipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.StartPipelineExecutionOutput, error)
	StopPipelineExecution(ctx context.Context, in *sagemaker.StopPipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.StopPipelineExecutionOutput, error)
	DescribePipelineExecution(ctx context.Context, in *sagemaker.DescribePipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error)
	ListPipelineExecutionSteps(ctx context.Context, in *sagemaker.ListPipelineExecutionStepsInput, opts ...func(*sagemaker.Options)) (*sagemaker.ListPipelineExecutionStepsOutput, error)
	SendPipelineExecutionStepFailure(ctx context.Context, in *sagemaker.SendPipelineExecutionStepFailureInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepFailureOutput, error)
}

// Queues is the SQS operations the doctor calls; *sqs.Client satisfies it.
type Queues interface {
	CreateQueue(ctx context.Context, in *sqs.CreateQueueInput, opts ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	DeleteQueue(ctx context.Context, in *sqs.DeleteQueueInput, opts ...func(*sqs.Options)) (*sqs.DeleteQueueOutput, error)
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// Functions is the Lambda operations the doctor calls; *lambda.Client
// satisfies it.
type Functions interface {
	CreateFunction(ctx context.Context, in *lambda.CreateFunctionInput, opts ...func(*lambda.Options)) (*lambda.CreateFunctionOutput, error)
	DeleteFunction(ctx context.Context, in *lambda.DeleteFunctionInput, opts ...func(*lambda.Options)) (*lambda.DeleteFunctionOutput, error)
	GetFunction(ctx context.Context, in *lambda.GetFunctionInput, opts ...func(*lambda.Options)) (*lambda.GetFunctionOutput, error)
}

var (
	_ SageMaker = (*sagemaker.Client)(nil)
	_ Queues    = (*sqs.Client)(nil)
	_ Functions = (*lambda.Client)(nil)
)

// Deps are the AWS clients, from the default configuration (so
// AWS_ENDPOINT_URL_SAGEMAKER, _SQS and _LAMBDA point them elsewhere).
type Deps struct {
	SageMaker SageMaker
	SQS       Queues
	Lambda    Functions
}

// Config says what to create and how long to wait.
type Config struct {
	// RoleARN is the pipeline's execution role: it needs sqs:SendMessage on
	// the temporary queue and lambda:InvokeFunction on the temporary
	// function (Permissions lists them).
	RoleARN string
	// LambdaRoleARN is the temporary function's execution role. Default
	// RoleARN.
	LambdaRoleARN string
	// Prefix starts every name the doctor creates. Default
	// "stopcoord-doctor".
	Prefix string
	// LambdaSleep is how long the stop probe's Lambda step runs, so the
	// stop finds it running. Default 60 s.
	LambdaSleep time.Duration
	// LambdaTimeout is the definition-level Timeout of the timeout probe's
	// Lambda step, whose function runs twice as long. Default 30 s (the
	// step default is 120 s, so an ignored Timeout shows).
	LambdaTimeout time.Duration
	// MessageWait is how long to wait for each callback message. Default 2 min.
	MessageWait time.Duration
	// Poll is the delay between status reads. Default 2 s.
	Poll time.Duration
	// Log receives one line per step, for the user to follow.
	Log io.Writer
}

func (c *Config) defaults() error {
	if c.RoleARN == "" {
		return errors.New("a pipeline execution role is required (--role)")
	}
	if c.LambdaRoleARN == "" {
		c.LambdaRoleARN = c.RoleARN
	}
	if c.Prefix == "" {
		c.Prefix = "stopcoord-doctor"
	}
	if c.LambdaSleep == 0 {
		c.LambdaSleep = time.Minute
	}
	if c.LambdaSleep < time.Second || c.LambdaSleep > 100*time.Second {
		return fmt.Errorf("lambda sleep %s: want 1s to 100s, under the Lambda step's 120 s default timeout", c.LambdaSleep)
	}
	if c.LambdaTimeout == 0 {
		c.LambdaTimeout = 30 * time.Second
	}
	if c.LambdaTimeout < time.Second || c.LambdaTimeout*2 >= 120*time.Second {
		return fmt.Errorf("lambda timeout %s: want 1s to under 60s, so the function outlives it but not the 120 s default", c.LambdaTimeout)
	}
	if c.MessageWait == 0 {
		c.MessageWait = 2 * time.Minute
	}
	if c.Poll == 0 {
		c.Poll = 2 * time.Second
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return nil
}

// Permissions are the IAM actions the doctor's caller needs; the pipeline
// role needs PipelineRolePermissions.
var Permissions = []string{
	"sagemaker:CreatePipeline", "sagemaker:DeletePipeline", "sagemaker:StartPipelineExecution",
	"sagemaker:StopPipelineExecution", "sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps",
	"sagemaker:SendPipelineExecutionStepFailure", "sagemaker:RetryPipelineExecution", "sagemaker:UpdatePipeline",
	"sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:DeleteMessage",
	"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction",
	"iam:PassRole (the pipeline role and the function's role)",
}

// PipelineRolePermissions are what the pipeline role needs for the
// throwaway pipeline.
var PipelineRolePermissions = []string{
	"sqs:SendMessage on arn:aws:sqs:<region>:<account>:stopcoord-doctor-*",
	"lambda:InvokeFunction on arn:aws:lambda:<region>:<account>:function:stopcoord-doctor-*",
}

// Run creates the throwaway resources, observes every behaviour, deletes
// what it created and returns the findings. The report is returned with
// an error too, holding what was observed before it.
func Run(ctx context.Context, deps Deps, cfg Config) (*Report, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := &run{deps: deps, cfg: cfg, report: &Report{}, name: cfg.Prefix + "-" + suffix()}
	err := r.probe(ctx)
	// Clean up on a context of its own: a cancelled run (Ctrl-C) must still
	// delete what it created.
	cleanCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	r.cleanup(cleanCtx)
	if err == nil && len(r.report.CleanupErrors) > 0 {
		err = errors.Join(r.report.CleanupErrors...)
	}
	return r.report, err
}

// suffix is 8 random lowercase letters and digits, so concurrent runs and
// leftovers of a killed run never collide.
func suffix() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	rand.Read(b) // crypto/rand.Read never fails
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (r *run) logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "doctor: "+format+"\n", args...)
}
