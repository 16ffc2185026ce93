package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// MonitoringProps names what to watch.
type MonitoringProps struct {
	Functions  map[string]awslambda.IFunction
	DLQs       map[string]awssqs.IQueue
	AlarmEmail string
	// Extra alarms built by the stack (stops stuck past the force deadline).
	Extra []awscloudwatch.Alarm
}

// Monitoring is the alarm topic, the alarms and the dashboard.
type Monitoring struct {
	constructs.Construct
	Topic  awssns.Topic
	Alarms []awscloudwatch.Alarm
}

// NewMonitoring alarms on anything in a DLQ and on function errors, sends
// every alarm to one topic, and draws a dashboard of the same metrics.
func NewMonitoring(scope constructs.Construct, id string, props *MonitoringProps) *Monitoring {
	c := constructs.NewConstruct(scope, &id)
	topic := awssns.NewTopic(c, jsii.String("Alarms"), &awssns.TopicProps{
		EnforceSSL: jsii.Bool(true),
		MasterKey:  awskms.Alias_FromAliasName(c, jsii.String("SnsKey"), jsii.String("alias/aws/sns")),
	})
	if props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(props.AlarmEmail), nil))
	}
	m := &Monitoring{Construct: c, Topic: topic}
	dash := awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	action := awscloudwatchactions.NewSnsAction(topic)

	for _, name := range sortedKeys(props.DLQs) {
		q := props.DLQs[name]
		depth := q.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum")})
		// Any message in a DLQ is a stop or a callback that needs a human.
		m.Alarms = append(m.Alarms, depth.CreateAlarm(c, jsii.String(name+"DLQDepth"), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String("Messages in the " + name + " dead-letter queue: a stop or callback gave up; inspect and redrive"),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}))
		dash.AddWidgets(awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(name + " DLQ depth"), Left: &[]awscloudwatch.IMetric{depth}}))
	}
	for _, name := range sortedKeys(props.Functions) {
		fn := props.Functions[name]
		errors := fn.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")})
		m.Alarms = append(m.Alarms, errors.CreateAlarm(c, jsii.String(name+"Errors"), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String("The " + name + " function is failing invocations"),
			Threshold:          jsii.Number(1),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		}))
		dash.AddWidgets(awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(name),
			Left:  &[]awscloudwatch.IMetric{fn.MetricInvocations(nil), errors, fn.MetricThrottles(nil)},
			Right: &[]awscloudwatch.IMetric{fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99")})},
		}))
	}
	m.Alarms = append(m.Alarms, props.Extra...)
	for _, a := range m.Alarms {
		a.AddAlarmAction(action)
	}
	return m
}

// stuckStopsAlarm counts the callback tokens the sweeper had to force past
// the force deadline (its log line "unblocked a stuck stop" with force
// true): each is a stop whose cleanup never finished.
func stuckStopsAlarm(scope constructs.Construct, sweeper *GoFunction) awscloudwatch.Alarm {
	metric := awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace: jsii.String("stopcoord"), MetricName: jsii.String("StopsForcedPastDeadline"),
		Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
	})
	awslogs.NewMetricFilter(scope, jsii.String("StopsForcedPastDeadline"), &awslogs.MetricFilterProps{
		LogGroup:        sweeper.LogGroup,
		FilterPattern:   awslogs.FilterPattern_Literal(jsii.String(`{ ($.message = "unblocked a stuck stop") && ($.force IS TRUE) }`)),
		MetricNamespace: metric.Namespace(),
		MetricName:      metric.MetricName(),
		MetricValue:     jsii.String("1"),
	})
	return metric.CreateAlarm(scope, jsii.String("StopsStuckPastForceDeadline"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String("A stop was still waiting on a callback step at the force deadline; the sweeper answered it without cleanup. Check what the step started."),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}
