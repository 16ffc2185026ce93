package main

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/settings"
)

// StopCoordStackProps configures the stopcoord stack.
type StopCoordStackProps struct {
	awscdk.StackProps
	// LedgerDeletionProtection makes DynamoDB refuse to delete the ledger
	// table until the protection is turned off again.
	LedgerDeletionProtection bool
	// AssetDir holds each function's bootstrap (dist/ from `make build`).
	AssetDir string
	Settings Settings
}

// functionIDs maps each folder under functions/ to the construct that
// deploys it; a test checks that every folder is deployed.
var functionIDs = map[string]string{
	"stop-api":   "StopAPIFunction",
	"stop-queue": "StopQueueFunction",
}

// Function timeouts and memory, chosen per job:
//   - stop-api answers API Gateway, which gives up after 30 s; a stop is a
//     few SageMaker and DynamoDB calls, so 29 s is all headroom.
//   - stop-queue stops a batch of 10 within the call budget: at 10 calls a
//     second and two calls a stop, about 2 s, so 60 s absorbs throttling.
//   - 256 MiB: the Go functions use under 50 MiB; the extra memory buys the
//     CPU share that keeps cold starts and JSON work quick.
const (
	stopAPITimeoutSeconds   = 29
	stopQueueTimeoutSeconds = 60
	functionMemoryMiB       = 256
)

// NewStopCoordStack builds the whole stopcoord deployment.
func NewStopCoordStack(scope constructs.Construct, id string, props *StopCoordStackProps) awscdk.Stack {
	if props == nil {
		props = &StopCoordStackProps{}
	}
	if props.AssetDir == "" {
		props.AssetDir = "dist"
	}
	if props.Settings.AllowedPipelines == nil {
		props.Settings = DefaultSettings()
	}
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	retention := retentions[props.Settings.LogRetentionDays]

	ledgerTable := NewLedger(stack, "Ledger", &LedgerProps{
		DeletionProtection: props.LedgerDeletionProtection,
	}).Table
	pipelines, executions := pipelineARNs(stack, props.Settings.AllowedPipelines)
	common := map[string]string{
		settings.TableName:        *ledgerTable.TableName(),
		settings.AllowedAccounts:  *stack.Account(),
		settings.AllowedPipelines: strings.Join(props.Settings.AllowedPipelines, ","),
	}
	with := func(extra map[string]string) map[string]string {
		env := map[string]string{}
		for k, v := range common {
			env[k] = v
		}
		for k, v := range extra {
			env[k] = v
		}
		return env
	}

	// The stop queue: bulk stops fan out through it, one execution a message.
	stopQueueFn := NewGoFunction(stack, functionIDs["stop-queue"], &GoFunctionProps{
		Name: "stop-queue", AssetDir: props.AssetDir, LogRetention: retention,
		Description: "Stops queued executions within the SageMaker call budget",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(stopQueueTimeoutSeconds)), MemoryMiB: functionMemoryMiB,
		// One instance at a time, so the per-instance budget is the budget.
		ReservedConcurrency: 1,
		Environment: with(map[string]string{
			settings.SageMakerCallsPerSecond: trimFloat(props.Settings.SageMakerCallsPerSecond),
		}),
	})
	stopQueue := NewConsumedQueue(stack, "StopQueue", &ConsumedQueueProps{
		Consumer: stopQueueFn.Function, ConsumerTimeout: stopQueueFn.Function.Timeout(),
		BatchSize: 10, MaxReceiveCount: 5, MaxConcurrency: 2,
	})

	stopAPIFn := NewGoFunction(stack, functionIDs["stop-api"], &GoFunctionProps{
		Name: "stop-api", AssetDir: props.AssetDir, LogRetention: retention,
		Description: "HTTP API: stop an execution or a pipeline, and show what a stop waits for",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(stopAPITimeoutSeconds)), MemoryMiB: functionMemoryMiB,
		Environment: with(map[string]string{settings.StopQueueURL: *stopQueue.Queue.QueueUrl()}),
	})
	api := NewStopAPI(stack, "StopAPI", &StopAPIProps{Handler: stopAPIFn.Function, LogRetention: retention, RateLimit: 20, BurstLimit: 40})

	// Least privilege: what each function calls, on the allowed pipelines.
	for _, fn := range []awslambda.Function{stopAPIFn.Function, stopQueueFn.Function} {
		suppressWildcards(fn)
		ledgerTable.GrantReadWriteData(fn)
		fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipelineExecution", "sagemaker:StopPipelineExecution", "sagemaker:ListPipelineExecutionSteps"}, executions))
		fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipeline"}, pipelines))
	}
	stopAPIFn.Function.AddToRolePolicy(statement([]string{"sagemaker:ListPipelineExecutions"}, pipelines))
	// Force stops answer callback tokens. The request names only the token,
	// not an ARN, so the action cannot be scoped to a resource.
	stopAPIFn.Function.AddToRolePolicy(statement([]string{"sagemaker:SendPipelineExecutionStepFailure"}, []*string{jsii.String("*")}))
	stopQueue.Queue.GrantSendMessages(stopAPIFn.Function)

	NewMonitoring(stack, "Monitoring", &MonitoringProps{
		Functions:  map[string]awslambda.IFunction{"StopAPI": stopAPIFn.Function, "StopQueue": stopQueueFn.Function},
		DLQs:       map[string]awssqs.IQueue{"StopQueue": stopQueue.DLQ},
		AlarmEmail: props.Settings.AlarmEmail,
	})

	output := func(id, description string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(description), Value: value})
	}
	output("ApiUrl", "Base URL of the stop API (SigV4-signed requests)", api.API.ApiEndpoint())
	output("LedgerTableName", "Name of the DynamoDB table that holds the stopcoord ledger", ledgerTable.TableName())
	output("StopQueueUrl", "URL of the internal stop queue bulk stops fan out through", stopQueue.Queue.QueueUrl())
	return stack
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
