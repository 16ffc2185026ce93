// Package stopcoord is the CDK construct library that deploys stopcoord:
// NewStopCoordStack for a stack of its own (what the repository's app in
// infra/ synthesizes), or NewStopCoord to add it to a stack of yours.
package stopcoord

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/settings"
)

// StopCoordStackProps configures stopcoord.
type StopCoordStackProps struct {
	// StackProps are used by NewStopCoordStack only.
	awscdk.StackProps
	// LedgerDeletionProtection makes DynamoDB refuse to delete the ledger
	// table until the protection is turned off again.
	LedgerDeletionProtection bool
	// AssetDir holds each function's bootstrap (dist/ from `make build`).
	AssetDir string
	Settings Settings
	// Deployment names this deployment in the metrics' Deployment dimension
	// and in Stop Completed events. Default: the stack's name.
	Deployment string
}

// StopCoord is what stopcoord deployed, for an app of your own to wire to
// (grant a caller the API, point pipelines at the callback queue, add
// alarm actions).
type StopCoord struct {
	constructs.Construct
	Ledger        awsdynamodb.Table
	API           awsapigatewayv2.HttpApi
	StopQueue     *ConsumedQueue
	CallbackQueue *ConsumedQueue
	// StatusEventsFailed holds the status events the status-events
	// function could not record after Lambda's retries.
	StatusEventsFailed awssqs.Queue
	// EventsDLQ holds events EventBridge could not deliver to a function.
	EventsDLQ awssqs.Queue
	// StopRequestBus is where Stop Requested events go: grant a requester
	// events:PutEvents on it (and name it in StopRequesters).
	StopRequestBus awsevents.EventBus
	Functions      map[string]*GoFunction // by folder name
	Monitoring     *Monitoring
}

// NewStopCoordStack builds stopcoord as a stack of its own. Its resources
// are the stack's direct children, so their logical ids stay those of
// earlier releases and an update never replaces the ledger table.
func NewStopCoordStack(scope constructs.Construct, id string, props *StopCoordStackProps) awscdk.Stack {
	props = withDefaults(props)
	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	build(stack, props)
	return stack
}

// NewStopCoord adds stopcoord to a stack of yours, under its own scope.
// props.StackProps is not used.
func NewStopCoord(scope constructs.Construct, id string, props *StopCoordStackProps) *StopCoord {
	return build(constructs.NewConstruct(scope, &id), withDefaults(props))
}

func withDefaults(props *StopCoordStackProps) *StopCoordStackProps {
	if props == nil {
		props = &StopCoordStackProps{}
	}
	p := *props
	if p.AssetDir == "" {
		p.AssetDir = "dist"
	}
	if p.Settings.AllowedPipelines == nil {
		p.Settings = DefaultSettings()
	}
	return &p
}

// MissingBootstraps lists the function bootstraps assetDir lacks: what
// `make build` has not built yet.
func MissingBootstraps(assetDir string) []string {
	var missing []string
	for _, row := range functionTable() {
		p := filepath.Join(assetDir, row.name, "bootstrap")
		if _, err := os.Stat(p); err != nil {
			missing = append(missing, p)
		}
	}
	return missing
}

// build adds every resource to scope: the ledger, then each row of the
// function table (function, trigger, environment, grants), then the
// monitoring of it all.
func build(scope constructs.Construct, props *StopCoordStackProps) *StopCoord {
	if missing := MissingBootstraps(props.AssetDir); len(missing) > 0 {
		// A panic is how a construct refuses; the message says what to do.
		panic(fmt.Sprintf("stopcoord: %s missing: run `make build` first", strings.Join(missing, ", ")))
	}
	stack := awscdk.Stack_Of(scope)
	deployment := props.Deployment
	if deployment == "" {
		deployment = *stack.StackName()
	}
	w := &wiring{
		scope: scope, stack: stack, props: props, deployment: deployment,
		retention: retentions[props.Settings.LogRetentionDays],
		out:       &StopCoord{Construct: scope, Functions: map[string]*GoFunction{}},
	}
	w.out.Ledger = NewLedger(scope, "Ledger", &LedgerProps{DeletionProtection: props.LedgerDeletionProtection}).Table
	w.pipelines, w.executions = pipelineARNs(stack, props.Settings.AllowedPipelines)
	w.out.EventsDLQ = deadLetterQueue(scope, "EventsDLQ", "This queue is itself the dead-letter queue of the EventBridge rule targets.")
	w.rules = NewRules(scope, "Rules", &RulesProps{DLQ: w.out.EventsDLQ, StopRequesters: props.Settings.StopRequesters})

	rows := functionTable()
	for _, row := range rows {
		w.out.Functions[row.name] = w.function(row)
	}
	// Triggers before environments: a trigger makes the queue another
	// function's environment names.
	for _, row := range rows {
		row.trigger(w, w.out.Functions[row.name])
	}
	for _, row := range rows {
		fn := w.out.Functions[row.name]
		env := row.env(w)
		for _, name := range sortedKeys(env) {
			fn.Function.AddEnvironment(jsii.String(name), env[name], nil)
		}
		suppressWildcards(fn.Function)
		for _, g := range row.grants {
			g(w, fn.Function)
		}
	}

	w.out.StopRequestBus = w.rules.StopRequestBus
	w.out.Monitoring = NewMonitoring(scope, "Monitoring", w.monitoringProps(rows))
	w.outputs()
	return w.out
}

// wiring is what the rows of the function table refer to.
type wiring struct {
	scope                 constructs.Construct
	stack                 awscdk.Stack
	props                 *StopCoordStackProps
	deployment            string
	retention             awslogs.RetentionDays
	pipelines, executions []*string
	rules                 *Rules
	out                   *StopCoord
}

func (w *wiring) function(row functionRow) *GoFunction {
	env := map[string]string{
		settings.TableName:        *w.out.Ledger.TableName(),
		settings.AllowedAccounts:  *w.stack.Account(),
		settings.AllowedPipelines: strings.Join(w.props.Settings.AllowedPipelines, ","),
		settings.Deployment:       w.deployment,
	}
	return NewGoFunction(w.scope, row.id, &GoFunctionProps{
		Name: row.name, AssetDir: w.props.AssetDir, LogRetention: w.retention,
		Description:         row.description,
		Timeout:             awscdk.Duration_Seconds(jsii.Number(row.timeoutSeconds)),
		MemoryMiB:           row.memoryMiB,
		ReservedConcurrency: row.reservedConcurrency,
		Environment:         env,
	})
}

func (w *wiring) monitoringProps(rows []functionRow) *MonitoringProps {
	fns := map[string]awslambda.IFunction{}
	for _, row := range rows {
		fns[strings.TrimSuffix(row.id, "Function")] = w.out.Functions[row.name].Function
	}
	s := w.props.Settings
	return &MonitoringProps{
		Deployment: w.deployment,
		Functions:  fns,
		DLQs: map[string]DLQ{
			"StopQueue":     {w.out.StopQueue.DLQ, "a queued stop failed on every delivery; inspect and redrive"},
			"CallbackQueue": {w.out.CallbackQueue.DLQ, "a callback message failed on every delivery: a step may be unregistered or a token unanswered; inspect and redrive"},
			"Events":        {w.out.EventsDLQ, "EventBridge could not deliver an event to a function; inspect and replay"},
			"StatusEventsFailed": {w.out.StatusEventsFailed, "a status or Stop Requested event could not be recorded after Lambda's retries: " +
				"a status change, a requested stop or a fail-fast stop is missing; inspect and replay"},
		},
		AlarmEmail:           s.AlarmEmail,
		AlarmTopicARN:        s.AlarmTopicARN,
		StopOpenAlarmMinutes: s.StopOpenAlarmMinutes,
		SweepEveryMinutes:    s.SweepEveryMinutes,
	}
}

func (w *wiring) outputs() {
	output := func(id, description string, value *string) {
		awscdk.NewCfnOutput(w.scope, jsii.String(id), &awscdk.CfnOutputProps{Description: jsii.String(description), Value: value})
	}
	output("ApiUrl", "Base URL of the stop API (SigV4-signed requests)", w.out.API.ApiEndpoint())
	output("LedgerTableName", "Name of the DynamoDB table that holds the stopcoord ledger", w.out.Ledger.TableName())
	output("StopQueueUrl", "URL of the internal stop queue bulk stops fan out through", w.out.StopQueue.Queue.QueueUrl())
	output("CallbackQueueUrl", "Point each callback step's SqsQueueUrl here", w.out.CallbackQueue.Queue.QueueUrl())
	output("StopRequestBusName", "Put Stop Requested events (source stopcoord) on this event bus", w.out.StopRequestBus.EventBusName())
	output("StatusEventsFailedQueueUrl", "Status events the status-events function could not record (replay them from here)", w.out.StatusEventsFailed.QueueUrl())
}
