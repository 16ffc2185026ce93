package stopcoord

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/metrics"
)

// MonitoringProps names what to watch.
type MonitoringProps struct {
	// Deployment is the value of the metrics' Deployment dimension.
	Deployment string
	Functions  map[string]awslambda.IFunction
	DLQs       map[string]DLQ
	AlarmEmail string
	// AlarmTopicARN is an existing topic every alarm also notifies.
	AlarmTopicARN string
	// StopOpenAlarmMinutes is how old the oldest open stop may get.
	StopOpenAlarmMinutes float64
	// SweepEveryMinutes is how often the sweeper reports its gauges.
	SweepEveryMinutes float64
}

// DLQ is a queue where something a person must look at ends up, and what
// a message in it means.
type DLQ struct {
	Queue   awssqs.IQueue
	Meaning string
}

// Monitoring is the alarm topic, the alarms and the dashboard.
type Monitoring struct {
	constructs.Construct
	Topic     awssns.Topic
	Alarms    []awscloudwatch.Alarm
	Dashboard awscloudwatch.Dashboard
}

// NewMonitoring alarms on what needs a person: a stop open too long, an
// abandoned cleanup, a token forced without cleanup, anything in a DLQ
// (status events that could not be recorded included) and failing
// functions. Every alarm goes to one topic (and to the configured
// one), and the dashboard draws the same metrics.
func NewMonitoring(scope constructs.Construct, id string, props *MonitoringProps) *Monitoring {
	c := constructs.NewConstruct(scope, &id)
	topic := awssns.NewTopic(c, jsii.String("Alarms"), &awssns.TopicProps{
		EnforceSSL: jsii.Bool(true),
		MasterKey:  awskms.Alias_FromAliasName(c, jsii.String("SnsKey"), jsii.String("alias/aws/sns")),
	})
	if props.AlarmEmail != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(props.AlarmEmail), nil))
	}
	actions := []awscloudwatch.IAlarmAction{awscloudwatchactions.NewSnsAction(topic)}
	if props.AlarmTopicARN != "" {
		actions = append(actions, awscloudwatchactions.NewSnsAction(awssns.Topic_FromTopicArn(c, jsii.String("AlarmTopic"), jsii.String(props.AlarmTopicARN))))
	}
	if props.AlarmEmail == "" && props.AlarmTopicARN == "" {
		awscdk.Annotations_Of(c).AddWarningV2(jsii.String("stopcoord:noAlarmTarget"), jsii.String(
			"no alarm email or topic is configured: alarms reach nobody. Set -c stopcoord:alarmEmail=you@example.com or -c stopcoord:alarmTopicArn=arn:aws:sns:..."), nil)
	}
	m := &Monitoring{Construct: c, Topic: topic}
	m.Dashboard = awscloudwatch.NewDashboard(c, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)),
	})
	alarm := func(metric awscloudwatch.Metric, id, description string, threshold float64) awscloudwatch.Alarm {
		a := metric.CreateAlarm(c, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String(description),
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		m.Alarms = append(m.Alarms, a)
		return a
	}

	m.stopMetrics(c, props, alarm)
	for _, name := range sortedKeys(props.DLQs) {
		q := props.DLQs[name]
		depth := q.Queue.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(1)), Statistic: jsii.String("Maximum")})
		// Any message in a DLQ needs a human.
		alarm(depth, name+"DLQDepth", "Messages in the "+name+" dead-letter queue: "+q.Meaning, 1)
		m.Dashboard.AddWidgets(awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(name + " DLQ depth"), Left: &[]awscloudwatch.IMetric{depth}}))
	}
	for _, name := range sortedKeys(props.Functions) {
		fn := props.Functions[name]
		errors := fn.MetricErrors(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(5)), Statistic: jsii.String("Sum")})
		alarm(errors, name+"Errors", "The "+name+" function is failing invocations", 1)
		m.Dashboard.AddWidgets(awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String(name),
			Left:  &[]awscloudwatch.IMetric{fn.MetricInvocations(nil), errors, fn.MetricThrottles(nil)},
			Right: &[]awscloudwatch.IMetric{fn.MetricDuration(&awscloudwatch.MetricOptions{Statistic: jsii.String("p99")})},
		}))
	}
	for _, a := range m.Alarms {
		a.AddAlarmAction(actions...)
	}
	return m
}

// stopMetrics alarms on and draws stopcoord's own metrics (package
// shared/metrics, written as EMF by the functions).
func (m *Monitoring) stopMetrics(c constructs.Construct, props *MonitoringProps, alarm func(awscloudwatch.Metric, string, string, float64) awscloudwatch.Alarm) {
	// The sweeper reports its gauges once a run: a period of at least one
	// run always holds a data point while it works.
	gaugePeriod := awscdk.Duration_Minutes(jsii.Number(max(5, props.SweepEveryMinutes)))
	five := awscdk.Duration_Minutes(jsii.Number(5))
	metric := func(name, statistic string, period awscdk.Duration, dims map[string]*string) awscloudwatch.Metric {
		d := map[string]*string{metrics.DimDeployment: jsii.String(props.Deployment)}
		for k, v := range dims {
			d[k] = v
		}
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(name),
			DimensionsMap: &d, Statistic: jsii.String(statistic), Period: period,
		})
	}
	// search draws a metric broken down by a dimension (one line per value).
	search := func(name, breakdown, label string) awscloudwatch.IMetric {
		return awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String(fmt.Sprintf(`SEARCH('{%s,%s,%s} MetricName="%s" %s="%s"', 'Sum', 300)`,
				metrics.Namespace, metrics.DimDeployment, breakdown, name, metrics.DimDeployment, props.Deployment)),
			Label:  jsii.String(label),
			Period: five,
		})
	}

	oldestStop := metric(metrics.OldestOpenStopAge, "Maximum", gaugePeriod, nil)
	threshold := props.StopOpenAlarmMinutes * 60
	alarm(oldestStop, "StopOpenTooLong", fmt.Sprintf("A stop has been open for more than %v minutes (the sweeper's %s): "+
		"GET /stops/{id} or `stopcoord status` shows what it waits for", props.StopOpenAlarmMinutes, metrics.OldestOpenStopAge), threshold)
	abandoned := metric(metrics.Cleanups, "Sum", five, map[string]*string{metrics.DimResult: jsii.String(metrics.CleanupAbandoned)})
	alarm(abandoned, "CleanupAbandoned", "A cleanup was given up: what a callback step started (a job, a run, a task) may still be running and costing money. "+
		"The ledger's token has attention set; stop the resource by hand", 1)
	forced := metric(metrics.TokensForced, "Sum", five, nil)
	alarm(forced, "TokensForced", "A stop was still waiting on a callback step at the force deadline; the sweeper answered it without cleanup. Check what the step started.", 1)

	graph := func(title string, left, right []awscloudwatch.IMetric, annotation *awscloudwatch.HorizontalAnnotation) awscloudwatch.GraphWidget {
		p := &awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(12)}
		if len(right) > 0 {
			p.Right = &right
		}
		if annotation != nil {
			p.RightAnnotations = &[]*awscloudwatch.HorizontalAnnotation{annotation}
		}
		return awscloudwatch.NewGraphWidget(p)
	}
	m.Dashboard.AddWidgets(
		graph("Stops requested and closed", []awscloudwatch.IMetric{
			metric(metrics.StopsRequested, "Sum", five, nil), metric(metrics.StopsClosed, "Sum", five, nil),
			search(metrics.StopsRequested, metrics.DimTrigger, "requested by trigger"),
		}, nil, nil),
		graph("Stop latency (ms)", []awscloudwatch.IMetric{
			metric(metrics.StopLatency, "p50", five, nil), metric(metrics.StopLatency, "p90", five, nil), metric(metrics.StopLatency, "Maximum", five, nil),
		}, nil, nil),
	)
	m.Dashboard.AddWidgets(
		graph("Open stops and callbacks", []awscloudwatch.IMetric{
			metric(metrics.OpenStops, "Maximum", gaugePeriod, nil), metric(metrics.OpenCallbacks, "Maximum", gaugePeriod, nil),
		}, []awscloudwatch.IMetric{oldestStop, metric(metrics.OldestOpenCallbackAge, "Maximum", gaugePeriod, nil)},
			&awscloudwatch.HorizontalAnnotation{Value: jsii.Number(threshold), Label: jsii.String("stop open alarm")}),
		graph("Cleanups by result, forced tokens, SageMaker throttles", []awscloudwatch.IMetric{
			search(metrics.Cleanups, metrics.DimResult, "cleanups"), forced, metric(metrics.SageMakerThrottles, "Sum", five, nil),
		}, nil, nil),
	)
}
