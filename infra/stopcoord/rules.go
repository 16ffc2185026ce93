package stopcoord

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// SageMaker's two pipeline event types, and stopcoord's own stop request.
const (
	detailExecutionStatus = pipeline.DetailExecutionStatus
	detailStepStatus      = pipeline.DetailStepStatus
	stopSource            = pipeline.SourceStopcoord
	detailStopRequested   = pipeline.DetailStopRequested
)

// RulesProps configures the EventBridge rules.
type RulesProps struct {
	// DLQ receives events a target could not take after its retries.
	DLQ awssqs.IQueue
	// StopRequesters are the IAM principal ARN patterns that may put Stop
	// Requested events on the stop request bus; empty: any principal of
	// the stack's account that its own IAM policy lets put events there.
	StopRequesters []string
}

// Rules are the rules that feed status-events and run the sweeper.
type Rules struct {
	constructs.Construct
	SageMaker, StopRequested, Sweep awsevents.Rule
	// StopRequestBus is the bus Stop Requested events are put on: stopcoord's
	// own, so its policy, not the default bus's, says who may send them.
	StopRequestBus awsevents.EventBus
	dlq            awssqs.IQueue
	requesters     []string
}

// NewRules makes the scope of the rules; RouteStatusEvents and Schedule add them.
func NewRules(scope constructs.Construct, id string, props *RulesProps) *Rules {
	return &Rules{Construct: constructs.NewConstruct(scope, &id), dlq: props.DLQ, requesters: props.StopRequesters}
}

// stopRequestBus makes the bus Stop Requested events arrive on, with a
// policy that admits them only from the stack's own account and, when
// requesters are configured, only from those principals. Same-account
// principals still need events:PutEvents on the bus in their own IAM
// policy: the Deny statements narrow what IAM allows, never widen it.
// Other accounts get no Allow, and the explicit Deny keeps it so even if
// someone adds one later.
func (r *Rules) stopRequestBus() awsevents.EventBus {
	stack := awscdk.Stack_Of(r.Construct)
	bus := awsevents.NewEventBus(r.Construct, jsii.String("StopRequestBus"), &awsevents.EventBusProps{
		Description: jsii.String("stopcoord: Stop Requested events (source stopcoord) from this account's configured requesters"),
	})
	deny := func(sid string, conditions map[string]any) {
		bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String(sid),
			Effect:     awsiam.Effect_DENY,
			Principals: &[]awsiam.IPrincipal{awsiam.NewAnyPrincipal()},
			Actions:    jsii.Strings("events:PutEvents"),
			Resources:  jsii.Strings(*bus.EventBusArn()),
			Conditions: &conditions,
		}))
	}
	deny("OnlyThisAccount", map[string]any{"StringNotEquals": map[string]any{"aws:PrincipalAccount": stack.Account()}})
	// One statement each: keys in one condition must all hold to deny.
	deny("OnlySourceStopcoord", map[string]any{"StringNotEquals": map[string]any{"events:source": stopSource}})
	deny("OnlyStopRequested", map[string]any{"StringNotEquals": map[string]any{"events:detail-type": detailStopRequested}})
	if len(r.requesters) > 0 {
		deny("OnlyConfiguredRequesters", map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": r.requesters}})
	}
	return bus
}

func (r *Rules) target(fn awslambda.IFunction, input awsevents.RuleTargetInput) awsevents.IRuleTarget {
	return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
		DeadLetterQueue: r.dlq,
		RetryAttempts:   jsii.Number(8),
		// Status events matter while the execution runs; older ones are
		// superseded and the sweeper reconciles what was missed.
		MaxEventAge: awscdk.Duration_Hours(jsii.Number(2)),
		Event:       input,
	})
}

// RouteStatusEvents sends SageMaker's pipeline status events and
// stopcoord's Stop Requested events to fn, and adds one scheduled rule per
// configured scheduled stop.
func (r *Rules) RouteStatusEvents(fn awslambda.IFunction, scheduled []ScheduledStop) {
	r.SageMaker = awsevents.NewRule(r.Construct, jsii.String("SageMakerStatus"), &awsevents.RuleProps{
		Description: jsii.String("SageMaker pipeline execution and step status changes to the stopcoord ledger"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.sagemaker"),
			DetailType: jsii.Strings(detailExecutionStatus, detailStepStatus),
		},
		Targets: &[]awsevents.IRuleTarget{r.target(fn, nil)},
	})
	r.StopRequestBus = r.stopRequestBus()
	r.StopRequested = awsevents.NewRule(r.Construct, jsii.String("StopRequested"), &awsevents.RuleProps{
		Description: jsii.String("Stop Requested events (source stopcoord, this account) on the stop request bus to the stop use case"),
		EventBus:    r.StopRequestBus,
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(stopSource),
			DetailType: jsii.Strings(detailStopRequested),
			// The bus policy already admits only this account; the pattern
			// says so again, and the function checks it a third time.
			Account: &[]*string{awscdk.Stack_Of(r.Construct).Account()},
		},
		Targets: &[]awsevents.IRuleTarget{r.target(fn, nil)},
	})
	for i, st := range scheduled {
		detail := map[string]any{"pipelineName": st.PipelineName}
		if st.Reason != "" {
			detail["reason"] = st.Reason
		}
		if st.Mode != "" {
			detail["mode"] = st.Mode
		}
		// The scheduled event becomes a Stop Requested envelope. Its id and
		// time are the schedule's own, so each night's stop is a new
		// request while a retried delivery of one night stays one.
		input := awsevents.RuleTargetInput_FromObject(map[string]any{
			"version":     "0",
			"id":          awsevents.EventField_EventId(),
			"time":        awsevents.EventField_Time(),
			"source":      stopSource,
			"detail-type": detailStopRequested,
			"account":     awsevents.EventField_Account(),
			"region":      awsevents.EventField_Region(),
			"resources":   []string{},
			"detail":      detail,
		})
		awsevents.NewRule(r.Construct, jsii.String("ScheduledStop"+strconv.Itoa(i)), &awsevents.RuleProps{
			Description: jsii.String("Scheduled stop of pipeline " + st.PipelineName),
			Schedule:    awsevents.Schedule_Expression(jsii.String(st.Schedule)),
			Targets:     &[]awsevents.IRuleTarget{r.target(fn, input)},
		})
	}
}

// Schedule runs fn on a schedule (the sweeper).
func (r *Rules) Schedule(fn awslambda.IFunction, every awscdk.Duration) {
	r.Sweep = awsevents.NewRule(r.Construct, jsii.String("Sweep"), &awsevents.RuleProps{
		Description: jsii.String("Runs the stopcoord sweeper"),
		Schedule:    awsevents.Schedule_Rate(every),
		Targets:     &[]awsevents.IRuleTarget{r.target(fn, nil)},
	})
}
