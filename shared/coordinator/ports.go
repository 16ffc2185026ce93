package coordinator

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// StopLedger is what the stop use cases need of the ledger.
type StopLedger interface {
	CreateStop(ctx context.Context, s pipeline.NewStop) (pipeline.StopRequest, bool, error)
	StopOf(ctx context.Context, arn pipeline.ExecutionARN, id string) (pipeline.StopRequest, error)
	AdvanceStop(ctx context.Context, arn pipeline.ExecutionARN, id string, phase pipeline.StopPhase, at time.Time, detail string) (pipeline.StopRequest, error)
	NoteStop(ctx context.Context, arn pipeline.ExecutionARN, id string, at time.Time, event, detail string) (pipeline.StopRequest, error)
	GetStop(ctx context.Context, id string) (pipeline.StopRequest, error)
}

// ExecutionLedger reads and records executions.
type ExecutionLedger interface {
	ReadExecution(ctx context.Context, arn pipeline.ExecutionARN) (pipeline.View, error)
	RecordExecutionStatus(ctx context.Context, c pipeline.ExecutionChange) (pipeline.Execution, error)
}

// ResourceLedger adds what a worker registered to a token's cleanup plan.
type ResourceLedger interface {
	AppendResources(ctx context.Context, arn pipeline.ExecutionARN, token string, resources []pipeline.Resource) (pipeline.Token, error)
}

// Ledger is the whole ledger as the coordinator uses it; *ledger.Ledger
// satisfies it.
type Ledger interface {
	StopLedger
	ExecutionLedger
	TokenLedger
	ResourceLedger
}

// Stopper starts a stop.
type Stopper interface {
	StopPipelineExecution(ctx context.Context, in *sagemaker.StopPipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.StopPipelineExecutionOutput, error)
}

// ExecutionDescriber reads an execution's status.
type ExecutionDescriber interface {
	DescribePipelineExecution(ctx context.Context, in *sagemaker.DescribePipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error)
}

// PipelineDescriber reads a pipeline's definition (for Lambda step timeouts).
type PipelineDescriber interface {
	DescribePipelineDefinitionForExecution(ctx context.Context, in *sagemaker.DescribePipelineDefinitionForExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error)
}

// StepFailureSender answers a callback token with a failure.
type StepFailureSender interface {
	SendPipelineExecutionStepFailure(ctx context.Context, in *sagemaker.SendPipelineExecutionStepFailureInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepFailureOutput, error)
}

// SageMaker is every SageMaker call the coordinator makes;
// *sagemaker.Client satisfies it.
type SageMaker interface {
	Stopper
	ExecutionDescriber
	PipelineDescriber
	TokenSageMaker
	sagemaker.ListPipelineExecutionsAPIClient
}

var _ SageMaker = (*sagemaker.Client)(nil)

// QueueSender puts stop messages on the internal stop queue;
// *sqs.Client satisfies it.
type QueueSender interface {
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ QueueSender = (*sqs.Client)(nil)
