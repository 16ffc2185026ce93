package stopcoord

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
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
}

// Rules are the rules that feed status-events and run the sweeper.
type Rules struct {
	constructs.Construct
	SageMaker, StopRequested, Sweep awsevents.Rule
	dlq                             awssqs.IQueue
}

// NewRules makes the scope of the rules; RouteStatusEvents and Schedule add them.
func NewRules(scope constructs.Construct, id string, props *RulesProps) *Rules {
	return &Rules{Construct: constructs.NewConstruct(scope, &id), dlq: props.DLQ}
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
	r.StopRequested = awsevents.NewRule(r.Construct, jsii.String("StopRequested"), &awsevents.RuleProps{
		Description: jsii.String("Stop Requested events (source stopcoord) to the stop use case"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(stopSource),
			DetailType: jsii.Strings(detailStopRequested),
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
