package main

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// SageMaker's two pipeline event types, and stopcoord's own stop request.
const (
	detailExecutionStatus = "SageMaker Model Building Pipeline Execution Status Change"
	detailStepStatus      = "SageMaker Model Building Pipeline Execution Step Status Change"
	stopSource            = "stopcoord"
	detailStopRequested   = "Stop Requested"
)

// RulesProps configures the EventBridge rules.
type RulesProps struct {
	StatusEvents awslambda.IFunction
	Sweeper      awslambda.IFunction
	SweepEvery   awscdk.Duration
	Scheduled    []ScheduledStop
	// DLQ receives events a target could not take after its retries.
	DLQ awssqs.IQueue
}

// Rules are the rules that feed status-events and run the sweeper.
type Rules struct {
	constructs.Construct
	SageMaker, StopRequested, Sweep awsevents.Rule
}

// NewRules routes SageMaker's pipeline status events and stopcoord's Stop
// Requested events to status-events, runs the sweeper on a schedule, and
// adds one scheduled rule per configured scheduled stop.
func NewRules(scope constructs.Construct, id string, props *RulesProps) *Rules {
	c := constructs.NewConstruct(scope, &id)
	target := func(fn awslambda.IFunction, input awsevents.RuleTargetInput) awsevents.IRuleTarget {
		return awseventstargets.NewLambdaFunction(fn, &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: props.DLQ,
			RetryAttempts:   jsii.Number(8),
			// Status events matter while the execution runs; older ones are
			// superseded and the sweeper reconciles what was missed.
			MaxEventAge: awscdk.Duration_Hours(jsii.Number(2)),
			Event:       input,
		})
	}
	r := &Rules{Construct: c}
	r.SageMaker = awsevents.NewRule(c, jsii.String("SageMakerStatus"), &awsevents.RuleProps{
		Description: jsii.String("SageMaker pipeline execution and step status changes to the stopcoord ledger"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.sagemaker"),
			DetailType: jsii.Strings(detailExecutionStatus, detailStepStatus),
		},
		Targets: &[]awsevents.IRuleTarget{target(props.StatusEvents, nil)},
	})
	r.StopRequested = awsevents.NewRule(c, jsii.String("StopRequested"), &awsevents.RuleProps{
		Description: jsii.String("Stop Requested events (source stopcoord) to the stop use case"),
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings(stopSource),
			DetailType: jsii.Strings(detailStopRequested),
		},
		Targets: &[]awsevents.IRuleTarget{target(props.StatusEvents, nil)},
	})
	r.Sweep = awsevents.NewRule(c, jsii.String("Sweep"), &awsevents.RuleProps{
		Description: jsii.String("Runs the stopcoord sweeper"),
		Schedule:    awsevents.Schedule_Rate(props.SweepEvery),
		Targets:     &[]awsevents.IRuleTarget{target(props.Sweeper, nil)},
	})
	for i, st := range props.Scheduled {
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
		awsevents.NewRule(c, jsii.String("ScheduledStop"+strconv.Itoa(i)), &awsevents.RuleProps{
			Description: jsii.String("Scheduled stop of pipeline " + st.PipelineName),
			Schedule:    awsevents.Schedule_Expression(jsii.String(st.Schedule)),
			Targets:     &[]awsevents.IRuleTarget{target(props.StatusEvents, input)},
		})
	}
	return r
}
