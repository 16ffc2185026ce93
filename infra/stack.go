package main

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

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
	"stop-api":      "StopAPIFunction",
	"stop-queue":    "StopQueueFunction",
	"callback":      "CallbackFunction",
	"status-events": "StatusEventsFunction",
	"sweeper":       "SweeperFunction",
}

// Function timeouts and memory, chosen per job:
//   - stop-api answers API Gateway, which gives up after 30 s; a stop is a
//     few SageMaker and DynamoDB calls, so 29 s is all headroom.
//   - stop-queue stops a batch of 10 within the call budget: at 10 calls a
//     second and two calls a stop, about 2 s, so 60 s absorbs throttling.
//   - callback runs a step's cleaners (30 s each at most, concurrently) and
//     answers; 120 s leaves room for a slow cleaner and a retried answer.
//   - status-events handles one event: a few ledger writes, sometimes a
//     stop; 30 s.
//   - sweeper does a bounded pass (STOPCOORD_SWEEP_BATCH executions within
//     a call budget) and stops early before its deadline; 5 minutes.
//   - 256 MiB: the Go functions use under 50 MiB; the extra memory buys the
//     CPU share that keeps cold starts and JSON work quick.
const (
	stopAPITimeoutSeconds      = 29
	stopQueueTimeoutSeconds    = 60
	callbackTimeoutSeconds     = 120
	statusEventsTimeoutSeconds = 30
	sweeperTimeoutSeconds      = 300
	functionMemoryMiB          = 256
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

	policies := map[string]string{}
	if props.Settings.Policies != "" {
		policies[settings.Policies] = props.Settings.Policies
	}
	callbackFn := NewGoFunction(stack, functionIDs["callback"], &GoFunctionProps{
		Name: "callback", AssetDir: props.AssetDir, LogRetention: retention,
		Description: "Callback steps: registers tokens, hands off work, cleans up on Stopping and answers each token once",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(callbackTimeoutSeconds)), MemoryMiB: functionMemoryMiB,
		Environment: with(policies),
	})
	// The queue pipelines point their callback steps at (SqsQueueUrl).
	callbackQueue := NewConsumedQueue(stack, "CallbackQueue", &ConsumedQueueProps{
		Consumer: callbackFn.Function, ConsumerTimeout: callbackFn.Function.Timeout(),
		// Above the cleanup attempts (3 by default), so a Stopping message is
		// answered before the redrive policy gives up on it.
		BatchSize: 10, MaxReceiveCount: 6,
	})
	callbackFn.Function.AddEnvironment(jsii.String(settings.CallbackQueueURL), callbackQueue.Queue.QueueUrl(), nil)

	statusFn := NewGoFunction(stack, functionIDs["status-events"], &GoFunctionProps{
		Name: "status-events", AssetDir: props.AssetDir, LogRetention: retention,
		Description: "SageMaker status events into the ledger; Stop Requested events and fail-fast policies stop executions",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(statusEventsTimeoutSeconds)), MemoryMiB: functionMemoryMiB,
		Environment: with(merge(policies, map[string]string{settings.StopQueueURL: *stopQueue.Queue.QueueUrl()})),
	})
	sweeperFn := NewGoFunction(stack, functionIDs["sweeper"], &GoFunctionProps{
		Name: "sweeper", AssetDir: props.AssetDir, LogRetention: retention,
		Description: "Stops executions past their max runtime, unblocks stuck stops and reconciles the ledger",
		Timeout:     awscdk.Duration_Seconds(jsii.Number(sweeperTimeoutSeconds)), MemoryMiB: functionMemoryMiB,
		// One sweep at a time: runs share a cursor.
		ReservedConcurrency: 1,
		Environment: with(merge(policies, map[string]string{
			settings.SageMakerCallsPerSecond: trimFloat(props.Settings.SageMakerCallsPerSecond),
		})),
	})
	eventsDLQ := awssqs.NewQueue(stack, jsii.String("EventsDLQ"), &awssqs.QueueProps{
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(eventsDLQ, &[]*cdknag.NagPackSuppression{{
		Id:     jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter queue of the EventBridge rule targets."),
	}}, nil)
	NewRules(stack, "Rules", &RulesProps{
		StatusEvents: statusFn.Function, Sweeper: sweeperFn.Function, DLQ: eventsDLQ,
		SweepEvery: awscdk.Duration_Minutes(jsii.Number(props.Settings.SweepEveryMinutes)),
		Scheduled:  props.Settings.ScheduledStops,
	})

	// Least privilege: what each function calls, on the allowed pipelines.
	all := []awslambda.Function{stopAPIFn.Function, stopQueueFn.Function, callbackFn.Function, statusFn.Function, sweeperFn.Function}
	for _, fn := range all {
		suppressWildcards(fn)
		ledgerTable.GrantReadWriteData(fn)
		fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"}, executions))
		fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipeline"}, pipelines))
	}
	for _, fn := range []awslambda.Function{stopAPIFn.Function, stopQueueFn.Function, statusFn.Function, sweeperFn.Function} {
		fn.AddToRolePolicy(statement([]string{"sagemaker:StopPipelineExecution"}, executions))
	}
	for _, fn := range []awslambda.Function{stopAPIFn.Function, statusFn.Function} {
		fn.AddToRolePolicy(statement([]string{"sagemaker:ListPipelineExecutions"}, pipelines))
		stopQueue.Queue.GrantSendMessages(fn)
	}
	// Answering callback tokens (force stops, the consumer, the sweeper).
	// The request names only the token, not an ARN, so the action cannot be
	// scoped to a resource.
	for _, fn := range []awslambda.Function{stopAPIFn.Function, statusFn.Function, callbackFn.Function, sweeperFn.Function} {
		fn.AddToRolePolicy(statement([]string{"sagemaker:SendPipelineExecutionStepFailure", "sagemaker:SendPipelineExecutionStepSuccess"}, []*string{jsii.String("*")}))
	}
	// The cleaners and the worker hand-off, for the callback consumer and
	// the sweeper that re-drives it.
	for _, fn := range []awslambda.Function{callbackFn.Function, sweeperFn.Function} {
		grantCleaners(stack, fn)
	}

	stuck := stuckStopsAlarm(stack, sweeperFn)
	NewMonitoring(stack, "Monitoring", &MonitoringProps{
		Functions: map[string]awslambda.IFunction{"StopAPI": stopAPIFn.Function, "StopQueue": stopQueueFn.Function,
			"Callback": callbackFn.Function, "StatusEvents": statusFn.Function, "Sweeper": sweeperFn.Function},
		DLQs:       map[string]awssqs.IQueue{"StopQueue": stopQueue.DLQ, "CallbackQueue": callbackQueue.DLQ, "Events": eventsDLQ},
		AlarmEmail: props.Settings.AlarmEmail,
		Extra:      []awscloudwatch.Alarm{stuck},
	})

	output := func(id, description string, value *string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(description), Value: value})
	}
	output("ApiUrl", "Base URL of the stop API (SigV4-signed requests)", api.API.ApiEndpoint())
	output("LedgerTableName", "Name of the DynamoDB table that holds the stopcoord ledger", ledgerTable.TableName())
	output("StopQueueUrl", "URL of the internal stop queue bulk stops fan out through", stopQueue.Queue.QueueUrl())
	output("CallbackQueueUrl", "Point each callback step's SqsQueueUrl here", callbackQueue.Queue.QueueUrl())
	return stack
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
