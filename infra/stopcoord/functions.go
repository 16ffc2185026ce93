package stopcoord

import (
	"math"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/settings"
)

// functionRow is one function: a folder under functions/ and everything
// the stack gives it. Adding a function is one folder and one row.
type functionRow struct {
	name        string // the folder under functions/ and the asset dir
	id          string // construct id; renaming it replaces the function
	description string
	// timeoutSeconds, memoryMiB and reservedConcurrency (0: none).
	timeoutSeconds, memoryMiB, reservedConcurrency float64
	// env is what the function reads beyond the variables every function
	// gets (table, allowed accounts and pipelines, deployment).
	env     func(w *wiring) map[string]*string
	grants  []grant
	trigger trigger
}

// Timeouts and memory, chosen per job:
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
const functionMemoryMiB = 256

// stopQueueConcurrency is both the stop queue's event source maximum
// concurrency and the stop-queue function's reserved concurrency. SQS event
// sources cannot go below 2 concurrent batches; with reserved concurrency
// below that, Lambda throttles the extra batch, and each throttled receive
// counts towards the redrive policy until the message lands in the DLQ. At
// 2 and 2, every batch the poller takes has an instance, and the call
// budget is split between the two instances.
const stopQueueConcurrency = 2

// functionTable is every function stopcoord deploys.
func functionTable() []functionRow {
	return []functionRow{
		{name: "stop-api", id: "StopAPIFunction", timeoutSeconds: 29, memoryMiB: functionMemoryMiB,
			description: "HTTP API: stop an execution or a pipeline, and show what a stop waits for",
			env: func(w *wiring) map[string]*string {
				return merge(w.cleanupScope(), vars(settings.StopQueueURL, w.out.StopQueue.Queue.QueueUrl()))
			},
			grants:  []grant{grantLedger, grantReadExecutions, grantReadDefinitions, grantReadExecutionRuns, grantStopExecutions, grantListExecutions, grantSendToStopQueue, grantAnswerTokens},
			trigger: httpAPI},
		{name: "stop-queue", id: "StopQueueFunction", timeoutSeconds: 60, memoryMiB: functionMemoryMiB,
			description:         "Stops queued executions within the SageMaker call budget",
			reservedConcurrency: stopQueueConcurrency,
			env: func(w *wiring) map[string]*string {
				return vars(settings.SageMakerCallsPerSecond, jsii.String(perInstance(w.props.Settings.SageMakerCallsPerSecond, stopQueueConcurrency)))
			},
			// A queued force stop answers the execution's open callbacks.
			grants:  []grant{grantLedger, grantReadExecutions, grantStopExecutions, grantAnswerTokens},
			trigger: consume("StopQueue", queueOptions{batchSize: 10, maxReceiveCount: 5, maxConcurrency: stopQueueConcurrency})},
		{name: "callback", id: "CallbackFunction", timeoutSeconds: 120, memoryMiB: functionMemoryMiB,
			description: "Callback steps: registers tokens, hands off work, cleans up on Stopping and answers each token once",
			env: func(w *wiring) map[string]*string {
				return merge(w.policies(), w.cleanupScope(), vars(settings.CallbackQueueURL, w.out.CallbackQueue.Queue.QueueUrl()))
			},
			grants: []grant{grantLedger, grantListSteps, grantAnswerTokens, grantCleaners, grantHandOff},
			// Receives above the cleanup attempts (3 by default), so a
			// Stopping message is answered before the redrive policy gives up.
			trigger: consume("CallbackQueue", queueOptions{batchSize: 10, maxReceiveCount: 6})},
		{name: "status-events", id: "StatusEventsFunction", timeoutSeconds: 30, memoryMiB: functionMemoryMiB,
			description: "SageMaker status events into the ledger; Stop Requested events and fail-fast policies stop executions",
			env: func(w *wiring) map[string]*string {
				return merge(w.policies(), vars(settings.StopQueueURL, w.out.StopQueue.Queue.QueueUrl()))
			},
			grants:  []grant{grantLedger, grantReadExecutions, grantReadDefinitions, grantStopExecutions, grantListExecutions, grantSendToStopQueue, grantAnswerTokens, grantPutStopCompleted},
			trigger: statusEvents},
		{name: "sweeper", id: "SweeperFunction", timeoutSeconds: 300, memoryMiB: functionMemoryMiB,
			description: "Stops executions past their max runtime, unblocks stuck stops and reconciles the ledger",
			// One sweep at a time: runs share a cursor.
			reservedConcurrency: 1,
			env: func(w *wiring) map[string]*string {
				return merge(w.policies(), w.cleanupScope(), vars(settings.SageMakerCallsPerSecond, jsii.String(trimFloat(w.props.Settings.SageMakerCallsPerSecond))))
			},
			grants:  []grant{grantLedger, grantReadExecutions, grantReadDefinitions, grantStopExecutions, grantAnswerTokens, grantCleaners, grantPutStopCompleted},
			trigger: schedule},
	}
}

// functionIDs maps each function's folder to its construct id.
func functionIDs() map[string]string {
	ids := map[string]string{}
	for _, row := range functionTable() {
		ids[row.name] = row.id
	}
	return ids
}

// A trigger connects a function to what invokes it.
type trigger func(w *wiring, fn *GoFunction)

// httpAPI puts the function behind the IAM-authorised HTTP API.
func httpAPI(w *wiring, fn *GoFunction) {
	w.out.API = NewStopAPI(w.scope, "StopAPI", &StopAPIProps{Handler: fn.Function, LogRetention: w.retention, RateLimit: 20, BurstLimit: 40}).API
}

type queueOptions struct{ batchSize, maxReceiveCount, maxConcurrency float64 }

// consume gives the function a queue of its own (with a DLQ) to consume
// with partial batch responses: StopQueue or CallbackQueue.
func consume(id string, o queueOptions) trigger {
	return func(w *wiring, fn *GoFunction) {
		q := NewConsumedQueue(w.scope, id, &ConsumedQueueProps{
			Consumer: fn.Function, ConsumerTimeout: fn.Function.Timeout(),
			BatchSize: o.batchSize, MaxReceiveCount: o.maxReceiveCount, MaxConcurrency: o.maxConcurrency,
		})
		switch id {
		case "StopQueue":
			w.out.StopQueue = q
		case "CallbackQueue":
			w.out.CallbackQueue = q
		}
	}
}

// statusEvents routes SageMaker's status events, Stop Requested events and
// the scheduled stops to the function. EventBridge invokes it
// asynchronously: an event it fails to record after Lambda's retries goes
// to the StatusEventsFailed queue, where an alarm fires (without it Lambda
// would drop the event; the rule's DLQ only catches delivery failures).
func statusEvents(w *wiring, fn *GoFunction) {
	w.rules.RouteStatusEvents(fn.Function, w.props.Settings.ScheduledStops)
	w.out.StatusEventsFailed = deadLetterQueue(w.scope, "StatusEventsFailed",
		"This queue is itself the on-failure destination of the status-events function's asynchronous invocations.")
	fn.Function.ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		OnFailure:     awslambdadestinations.NewSqsDestination(w.out.StatusEventsFailed),
		RetryAttempts: jsii.Number(2),
		// As the rules' own maximum age: older status events are
		// superseded, and the sweeper reconciles what was missed.
		MaxEventAge: awscdk.Duration_Hours(jsii.Number(2)),
	})
}

// schedule runs the function every SweepEveryMinutes.
func schedule(w *wiring, fn *GoFunction) {
	w.rules.Schedule(fn.Function, awscdk.Duration_Minutes(jsii.Number(w.props.Settings.SweepEveryMinutes)))
}

func (w *wiring) policies() map[string]*string {
	if w.props.Settings.Policies == "" {
		return nil
	}
	return vars(settings.Policies, jsii.String(w.props.Settings.Policies))
}

func vars(name string, value *string) map[string]*string { return map[string]*string{name: value} }

func merge(maps ...map[string]*string) map[string]*string {
	out := map[string]*string{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// cleanupScope is the scope the functions that clean, hand off work or
// take registrations enforce; unset (the empty scope) allows nothing.
func (w *wiring) cleanupScope() map[string]*string {
	if w.props.Settings.CleanupScope == "" {
		return nil
	}
	return vars(settings.CleanupScope, jsii.String(w.props.Settings.CleanupScope))
}

func trimFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// perInstance is one instance's share of a calls-per-second budget split
// between n instances, rounded down so together they stay within it (at
// least 1: the variable is a whole number).
func perInstance(total float64, n int) string {
	return trimFloat(math.Max(1, math.Floor(total/float64(n))))
}
