package coordinator

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
)

// Ledger is every ledger operation the service uses; *ledger.Ledger
// satisfies it.
type Ledger interface {
	// Stop requests.
	CreateStop(ctx context.Context, s pipeline.NewStop) (pipeline.StopRequest, bool, error)
	StopOf(ctx context.Context, arn pipeline.ExecutionARN, id string) (pipeline.StopRequest, error)
	GetStop(ctx context.Context, id string) (pipeline.StopRequest, error)
	AdvanceStop(ctx context.Context, arn pipeline.ExecutionARN, id string, phase pipeline.StopPhase, at time.Time, detail string) (pipeline.StopRequest, error)
	NoteStop(ctx context.Context, arn pipeline.ExecutionARN, id string, at time.Time, event, detail string) (pipeline.StopRequest, error)
	CloseStop(ctx context.Context, arn pipeline.ExecutionARN, id string, outcome pipeline.ExecutionStatus, at, sageMakerAt time.Time) (pipeline.StopRequest, error)
	// ListOpenStops lists the stops not closed, requested at or before
	// cutoff, oldest first.
	ListOpenStops(ctx context.Context, cutoff time.Time, limit int32, cursor string) ([]pipeline.StopRequest, string, error)

	// Executions and steps.
	ReadExecution(ctx context.Context, arn pipeline.ExecutionARN) (pipeline.View, error)
	RecordExecutionStatus(ctx context.Context, c pipeline.ExecutionChange) (pipeline.Execution, error)
	RecordStepStatus(ctx context.Context, c pipeline.StepChange) (pipeline.Step, error)

	// Callback tokens and their cleanups.
	FindToken(ctx context.Context, token string) (pipeline.Token, error)
	CompleteToken(ctx context.Context, r pipeline.TokenRegistration) (pipeline.Token, bool, error)
	AppendResources(ctx context.Context, arn pipeline.ExecutionARN, token string, resources []pipeline.Resource) (pipeline.Token, error)
	ClaimToken(ctx context.Context, c pipeline.TokenClaim) (pipeline.Token, error)
	// ClaimExisting claims a token the execution's records already hold,
	// without reading it first; pipeline.ErrNotFound when they hold none.
	ClaimExisting(ctx context.Context, arn pipeline.ExecutionARN, token, fence string, lease time.Duration) (pipeline.Token, error)
	ReleaseToken(ctx context.Context, arn pipeline.ExecutionARN, token, fence string) error
	MarkAnswered(ctx context.Context, arn pipeline.ExecutionARN, token string, a pipeline.Answer) (pipeline.Token, error)
	RecordCleanup(ctx context.Context, r pipeline.CleanupResult) (pipeline.Cleanup, error)
	RecordRejection(ctx context.Context, r pipeline.Rejection) error

	// The sweeper's reads and its place in the pass.
	ListActive(ctx context.Context, cutoff time.Time, limit int32, cursor string) (pipeline.ExecutionPage, error)
	ListStopping(ctx context.Context, cutoff time.Time, limit int32, cursor string) (pipeline.ExecutionPage, error)
	SweepCursor(ctx context.Context) (string, int64, error)
	SaveSweepCursor(ctx context.Context, cursor string, readVersion int64) error
}

// SageMaker is every SageMaker call the service makes; *sagemaker.Client
// satisfies it.
type SageMaker interface {
	StopPipelineExecution(ctx context.Context, in *sagemaker.StopPipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.StopPipelineExecutionOutput, error)
	DescribePipelineExecution(ctx context.Context, in *sagemaker.DescribePipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error)
	DescribePipelineDefinitionForExecution(ctx context.Context, in *sagemaker.DescribePipelineDefinitionForExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineDefinitionForExecutionOutput, error)
	ListPipelineExecutions(ctx context.Context, in *sagemaker.ListPipelineExecutionsInput, opts ...func(*sagemaker.Options)) (*sagemaker.ListPipelineExecutionsOutput, error)
	ListPipelineExecutionSteps(ctx context.Context, in *sagemaker.ListPipelineExecutionStepsInput, opts ...func(*sagemaker.Options)) (*sagemaker.ListPipelineExecutionStepsOutput, error)
	ListPipelineParametersForExecution(ctx context.Context, in *sagemaker.ListPipelineParametersForExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.ListPipelineParametersForExecutionOutput, error)
	DescribePipeline(ctx context.Context, in *sagemaker.DescribePipelineInput, opts ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineOutput, error)
	SendPipelineExecutionStepSuccess(ctx context.Context, in *sagemaker.SendPipelineExecutionStepSuccessInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepSuccessOutput, error)
	SendPipelineExecutionStepFailure(ctx context.Context, in *sagemaker.SendPipelineExecutionStepFailureInput, opts ...func(*sagemaker.Options)) (*sagemaker.SendPipelineExecutionStepFailureOutput, error)
}

var _ SageMaker = (*sagemaker.Client)(nil)

// SQS puts messages on queues: stop messages on the internal stop queue
// (bulk stops) and callback contexts on workers' queues; *sqs.Client
// satisfies it.
type SQS interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

var _ SQS = (*sqs.Client)(nil)

// WorkerStarter starts the Lambda worker a callback step's arguments name,
// asynchronously, with the callback context as its payload; worker.Lambda
// satisfies it. It names no Lambda client type on purpose: importing the
// client's package costs its init in every function, and only the callback
// function starts workers.
type WorkerStarter interface {
	StartWorker(ctx context.Context, function string, payload []byte) error
}

// Cleaner stops one resource a callback step started; a cleanup.Set
// satisfies it, choosing the cleaner by the resource's kind.
type Cleaner interface {
	Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error
}

// Policies gives each pipeline its policy; *policy.Set satisfies it.
type Policies interface {
	For(pipelineName string) policy.Policy
}

// StopObserver hears of a stop closed, with its execution as the ledger
// holds it; a *stopevents.Observer publishes it as a Stop Completed event.
type StopObserver interface {
	StopClosed(ctx context.Context, trigger string, stop pipeline.StopRequest, view pipeline.View)
}

// StopOutcome says how a stopped pipeline's callback steps are answered:
// succeed with the outputs, or fail (the default, and what a nil
// StopOutcome means).
type StopOutcome func(pipelineName string) (succeed bool, outputs map[string]string)
