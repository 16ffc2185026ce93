package stopcoord

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/settings"
	"github.com/stopcoord/stopcoord/shared/stopevents"
)

// synthesizeWith synthesizes the app with cdk.json's context plus extra,
// naming the stack as main does.
func synthesizeWith(t *testing.T, extra map[string]any) (awscdk.Stack, template) {
	t.Helper()
	ctx := *cdkJSONContext(t)
	for k, v := range extra {
		ctx[k] = v
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &ctx})
	props, err := PropsFromContext(app.Node().TryGetContext)
	if err != nil {
		t.Fatal(err)
	}
	props.AssetDir = placeholderAssets(t)
	stack := NewStopCoordStack(app, *props.StackName, props)
	return stack, templateJSON(t, stack)
}

// roleStatements are the statements of the policies attached to the role of
// the function a GoFunction construct made.
func (tmpl template) roleStatements(t *testing.T, constructID string) []map[string]any {
	t.Helper()
	_, fn := tmpl.function(t, constructID)
	role := fn.Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0]
	var out []map[string]any
	for _, p := range tmpl.ofType("AWS::IAM::Policy") {
		for _, r := range p.Properties["Roles"].([]any) {
			if r.(map[string]any)["Ref"] == role {
				for _, st := range p.Properties["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					out = append(out, st.(map[string]any))
				}
			}
		}
	}
	return out
}

func actionsOf(st map[string]any) []string {
	switch a := st["Action"].(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			out = append(out, x.(string))
		}
		return out
	}
	return nil
}

// alarmOn finds the alarms on a metric.
func (tmpl template) alarmsOn(namespace, metric string) []resource {
	var out []resource
	for _, a := range tmpl.ofType("AWS::CloudWatch::Alarm") {
		if a.Properties["Namespace"] == namespace && a.Properties["MetricName"] == metric {
			out = append(out, a)
		}
	}
	return out
}

func dimensions(a resource) map[string]any {
	out := map[string]any{}
	for _, d := range a.Properties["Dimensions"].([]any) {
		d := d.(map[string]any)
		out[d["Name"].(string)] = d["Value"]
	}
	return out
}

func refID(v any) string {
	if m, ok := v.(map[string]any); ok {
		if id, ok := m["Ref"].(string); ok {
			return id
		}
		if ga, ok := m["Fn::GetAtt"].([]any); ok {
			return ga[0].(string)
		}
	}
	return ""
}

// TestOperations checks what on-call relies on, on the stack cdk.json
// describes.
func TestOperations(t *testing.T) {
	_, tmpl := synthesizeWith(t, nil)

	// Issue 11, defect 9: an SQS event source may run MaximumConcurrency
	// batches at once; a function whose reserved concurrency is lower
	// throttles the rest, and every throttled receive counts towards the
	// redrive policy. So a consumer with reserved concurrency caps its
	// event source at or below it.
	t.Run("event sources stay within reserved concurrency", func(t *testing.T) {
		for id, m := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
			fn := tmpl.Resources[refID(m.Properties["FunctionName"])]
			reserved, ok := fn.Properties["ReservedConcurrentExecutions"].(float64)
			if !ok {
				continue
			}
			sc, _ := m.Properties["ScalingConfig"].(map[string]any)
			maxConc, ok := sc["MaximumConcurrency"].(float64)
			if !ok || maxConc > reserved {
				t.Errorf("%s: event source maximum concurrency %v, function reserved concurrency %v: batches beyond it are throttled into the DLQ", id, sc["MaximumConcurrency"], reserved)
			}
		}
		// The stop queue's instances together keep to the configured budget.
		_, fn := tmpl.function(t, "StopQueueFunction")
		perInstance, _ := strconv.ParseFloat(functionEnvironment(t, tmpl, "StopQueueFunction")[settings.SageMakerCallsPerSecond].(string), 64)
		if total := perInstance * fn.Properties["ReservedConcurrentExecutions"].(float64); total > DefaultSettings().SageMakerCallsPerSecond {
			t.Errorf("stop-queue instances may make %v SageMaker calls a second together, over the budget of %v", total, DefaultSettings().SageMakerCallsPerSecond)
		}
	})

	// Issue 11, defect 8: a status event the function fails to record
	// after Lambda's retries lands in a queue with an alarm.
	t.Run("status events that cannot be recorded are kept and alarmed", func(t *testing.T) {
		fnID, _ := tmpl.function(t, "StatusEventsFunction")
		var queueID string
		for id, c := range tmpl.ofType("AWS::Lambda::EventInvokeConfig") {
			if refID(c.Properties["FunctionName"]) != fnID {
				continue
			}
			dest, _ := c.Properties["DestinationConfig"].(map[string]any)
			onFailure, _ := dest["OnFailure"].(map[string]any)
			queueID = refID(onFailure["Destination"])
			if tmpl.Resources[queueID].Type != "AWS::SQS::Queue" {
				t.Fatalf("%s: on-failure destination %v is not a queue of the stack", id, onFailure["Destination"])
			}
		}
		if queueID == "" {
			t.Fatal("status-events has no on-failure destination: failed events are dropped after Lambda's retries")
		}
		if got := tmpl.Resources[queueID].Properties["MessageRetentionPeriod"]; got != 14.0*24*3600 {
			t.Errorf("%s keeps messages %v s, want 14 days", queueID, got)
		}
		sends := false
		for _, st := range tmpl.roleStatements(t, "StatusEventsFunction") {
			if slices.Contains(actionsOf(st), "sqs:SendMessage") && strings.Contains(fmt.Sprint(st["Resource"]), queueID) {
				sends = true
			}
		}
		if !sends {
			t.Errorf("the status-events role may not send to %s, so Lambda cannot deliver the failed event", queueID)
		}
		alarmed := false
		for _, a := range tmpl.alarmsOn("AWS/SQS", "ApproximateNumberOfMessagesVisible") {
			if refID(dimensions(a)["QueueName"]) == queueID && a.Properties["Threshold"] == 1.0 {
				alarmed = true
			}
		}
		if !alarmed {
			t.Errorf("no alarm on a message in %s", queueID)
		}
	})

	t.Run("alarms read the sweeper's metrics, not log strings", func(t *testing.T) {
		if n := len(tmpl.ofType("AWS::Logs::MetricFilter")); n != 0 {
			t.Errorf("%d log metric filters: alarms must rest on metrics, not on log strings", n)
		}
		deployment := map[string]any{metrics.DimDeployment: DefaultStackName}
		tests := []struct {
			metric    string
			dims      map[string]any
			statistic string
			threshold float64
		}{
			{metrics.OldestOpenStopAge, deployment, "Maximum", DefaultSettings().StopOpenAlarmMinutes * 60},
			{metrics.Cleanups, map[string]any{metrics.DimDeployment: DefaultStackName, metrics.DimResult: metrics.CleanupAbandoned}, "Sum", 1},
			{metrics.TokensForced, deployment, "Sum", 1},
		}
		for _, tt := range tests {
			alarms := tmpl.alarmsOn(metrics.Namespace, tt.metric)
			if len(alarms) != 1 {
				t.Errorf("%d alarms on %s, want 1", len(alarms), tt.metric)
				continue
			}
			a := alarms[0].Properties
			if got := dimensions(alarms[0]); fmt.Sprint(got) != fmt.Sprint(tt.dims) || a["Statistic"] != tt.statistic || a["Threshold"] != tt.threshold ||
				a["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || a["TreatMissingData"] != "notBreaching" {
				t.Errorf("alarm on %s: dimensions %v statistic %v threshold %v %v %v; want %v %s >= %v, missing data not breaching",
					tt.metric, got, a["Statistic"], a["Threshold"], a["ComparisonOperator"], a["TreatMissingData"], tt.dims, tt.statistic, tt.threshold)
			}
		}
		// A gauge period shorter than the sweep would leave gaps.
		a := tmpl.alarmsOn(metrics.Namespace, metrics.OldestOpenStopAge)[0].Properties
		if p := a["Period"].(float64); p < DefaultSettings().SweepEveryMinutes*60 {
			t.Errorf("stop-open alarm period %vs is shorter than a sweep (%v min)", p, DefaultSettings().SweepEveryMinutes)
		}
		// Every DLQ, and every function's errors.
		queues := 0
		for range tmpl.alarmsOn("AWS/SQS", "ApproximateNumberOfMessagesVisible") {
			queues++
		}
		if want := 4; queues != want {
			t.Errorf("%d DLQ depth alarms, want %d (stop queue, callback queue, rule targets, status events)", queues, want)
		}
		if got := len(tmpl.alarmsOn("AWS/Lambda", "Errors")); got != len(functionTable()) {
			t.Errorf("%d function error alarms, want one per function (%d)", got, len(functionTable()))
		}
		for id, a := range tmpl.ofType("AWS::CloudWatch::Alarm") {
			if actions, _ := a.Properties["AlarmActions"].([]any); len(actions) == 0 {
				t.Errorf("alarm %s notifies nobody", id)
			}
		}
	})

	t.Run("dashboard shows every metric", func(t *testing.T) {
		dashboards := tmpl.ofType("AWS::CloudWatch::Dashboard")
		if len(dashboards) != 1 {
			t.Fatalf("%d dashboards, want 1", len(dashboards))
		}
		var body string
		for _, d := range dashboards {
			b, _ := json.Marshal(d.Properties["DashboardBody"])
			body = string(b)
		}
		for _, m := range []string{metrics.StopsRequested, metrics.StopsClosed, metrics.StopLatency, metrics.OpenStops, metrics.OldestOpenStopAge,
			metrics.OpenCallbacks, metrics.OldestOpenCallbackAge, metrics.Cleanups, metrics.TokensForced, metrics.SageMakerThrottles} {
			if !strings.Contains(body, `\"`+m+`\"`) && !strings.Contains(body, `MetricName=\\\"`+m+`\\\"`) {
				t.Errorf("the dashboard does not show %s", m)
			}
		}
	})

	t.Run("only the functions that close stops publish Stop Completed", func(t *testing.T) {
		for name, id := range functionIDs() {
			var puts []map[string]any
			for _, st := range tmpl.roleStatements(t, id) {
				if slices.Contains(actionsOf(st), "events:PutEvents") {
					puts = append(puts, st)
				}
			}
			closesStops := name == "status-events" || name == "sweeper"
			if !closesStops {
				if len(puts) > 0 {
					t.Errorf("%s may put events: %v", name, puts)
				}
				continue
			}
			if len(puts) != 1 {
				t.Fatalf("%s: %d events:PutEvents statements, want 1", name, len(puts))
			}
			st := puts[0]
			want := map[string]any{"StringEquals": map[string]any{"events:source": stopevents.Source, "events:detail-type": stopevents.DetailTypeStopCompleted}}
			if fmt.Sprint(st["Condition"]) != fmt.Sprint(want) || !strings.Contains(fmt.Sprint(st["Resource"]), ":event-bus/default") || len(actionsOf(st)) != 1 {
				t.Errorf("%s: PutEvents statement %v, want only events:PutEvents on the default bus under %v", name, st, want)
			}
		}
	})

	// EMF lines carry no level, so Lambda files them as INFO: a higher
	// application log level would filter every metric out.
	t.Run("log level keeps the metric lines", func(t *testing.T) {
		for id, fn := range tmpl.ofType("AWS::Lambda::Function") {
			lc, _ := fn.Properties["LoggingConfig"].(map[string]any)
			if level := lc["ApplicationLogLevel"]; !slices.Contains([]any{"TRACE", "DEBUG", "INFO"}, level) {
				t.Errorf("%s: application log level %v drops the EMF metric lines", id, level)
			}
		}
	})

	t.Run("every function knows its deployment", func(t *testing.T) {
		for name, id := range functionIDs() {
			if got := functionEnvironment(t, tmpl, id)[settings.Deployment]; got != DefaultStackName {
				t.Errorf("%s: %s = %v, want the stack name %s", name, settings.Deployment, got, DefaultStackName)
			}
		}
	})
}

// TestStageAndAlarmTopic: a stage names the stack and its metrics apart,
// and an alarm topic and a stop-open time reach the alarms.
func TestStageAndAlarmTopic(t *testing.T) {
	topic := "arn:aws:sns:eu-west-1:123456789012:oncall"
	stack, tmpl := synthesizeWith(t, map[string]any{ContextStage: "dev", contextAlarmTopicARN: topic, contextStopOpenAlarmMinutes: "30"})
	if got := *stack.StackName(); got != "StopCoord-dev" {
		t.Errorf("stack name %q, want StopCoord-dev", got)
	}
	a := tmpl.alarmsOn(metrics.Namespace, metrics.OldestOpenStopAge)
	if len(a) != 1 || a[0].Properties["Threshold"] != 1800.0 || dimensions(a[0])[metrics.DimDeployment] != "StopCoord-dev" {
		t.Fatalf("stop-open alarm %v, want threshold 1800 on Deployment StopCoord-dev", a)
	}
	for id, al := range tmpl.ofType("AWS::CloudWatch::Alarm") {
		if !strings.Contains(fmt.Sprint(al.Properties["AlarmActions"]), topic) {
			t.Errorf("alarm %s does not notify %s: %v", id, topic, al.Properties["AlarmActions"])
		}
	}
	if got := functionEnvironment(t, tmpl, "SweeperFunction")[settings.Deployment]; got != "StopCoord-dev" {
		t.Errorf("sweeper deployment %v, want StopCoord-dev", got)
	}
	warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("alarms reach nobody")))
	if len(*warnings) != 0 {
		t.Errorf("warned that alarms reach nobody although a topic is configured")
	}
}

func TestWarnsWhenAlarmsReachNobody(t *testing.T) {
	stack, _ := synthesizeWith(t, nil) // cdk.json sets neither
	warnings := assertions.Annotations_FromStack(stack).FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("no alarm email or topic is configured")))
	if len(*warnings) != 1 {
		t.Fatalf("%d warnings that alarms reach nobody, want 1", len(*warnings))
	}
}

// TestConstructInAStackOfYourOwn adds stopcoord to a team's own stack.
func TestConstructInAStackOfYourOwn(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	stack := awscdk.NewStack(app, jsii.String("PlatformStack"), nil)
	sc := NewStopCoord(stack, "StopCoord", &StopCoordStackProps{AssetDir: placeholderAssets(t), Settings: Settings{
		AllowedPipelines: []string{"team-*"}, SageMakerCallsPerSecond: 4, LogRetentionDays: 7, SweepEveryMinutes: 10, StopOpenAlarmMinutes: 20, AlarmEmail: "oncall@example.com",
	}})
	tmpl := templateJSON(t, stack)
	if got := len(tmpl.ofType("AWS::Lambda::Function")); got != len(functionTable()) {
		t.Errorf("%d functions, want %d", got, len(functionTable()))
	}
	if len(sc.Functions) != len(functionTable()) || sc.API == nil || sc.CallbackQueue == nil || sc.StatusEventsFailed == nil {
		t.Errorf("the construct does not expose what it built: %+v", sc)
	}
	for name, id := range functionIDs() {
		found := 0
		for lid := range tmpl.ofType("AWS::Lambda::Function") {
			if strings.HasPrefix(lid, "StopCoord"+id) {
				found++
			}
		}
		if found != 1 {
			t.Errorf("%s: %d functions under the construct's scope, want 1", name, found)
		}
	}
	env := map[string]any{}
	for _, fn := range tmpl.ofType("AWS::Lambda::Function") {
		vars := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		env = vars
		if vars[settings.Deployment] != "PlatformStack" {
			t.Errorf("deployment %v, want the enclosing stack PlatformStack", vars[settings.Deployment])
		}
	}
	if env[settings.AllowedPipelines] != "team-*" {
		t.Errorf("allowed pipelines %v, want team-*", env[settings.AllowedPipelines])
	}
}

func TestStackNameFromContext(t *testing.T) {
	tests := []struct {
		name    string
		context map[string]any
		want    string
		wantErr bool
	}{
		{"default", map[string]any{}, "StopCoord", false},
		{"stage", map[string]any{ContextStage: "prod"}, "StopCoord-prod", false},
		{"name wins over stage", map[string]any{ContextStage: "prod", ContextStackName: "MLStop"}, "MLStop", false},
		{"bad stage", map[string]any{ContextStage: "dev/eu"}, "", true},
		{"too long", map[string]any{ContextStackName: "A" + strings.Repeat("b", 128)}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := StackNameFromContext(func(k *string) any { return tt.context[*k] })
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("context %v: got %q, %v; want %q, error %v", tt.context, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestSynthWithoutBootstrapsSaysRunMakeBuild runs the app as the CDK CLI
// does, with an empty asset directory: one line that says what to do, no
// Go panic.
func TestSynthWithoutBootstrapsSaysRunMakeBuild(t *testing.T) {
	if len(MissingBootstraps(placeholderAssets(t))) != 0 {
		t.Fatal("MissingBootstraps reports placeholders as missing")
	}
	if got := MissingBootstraps(t.TempDir()); len(got) != len(functionTable()) {
		t.Fatalf("MissingBootstraps of an empty dir = %v, want every function", got)
	}
	ctx, _ := json.Marshal(map[string]any{ContextAssetDir: filepath.Join(t.TempDir(), "dist")})
	cmd := exec.Command("go", "run", ".")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CDK_CONTEXT_JSON="+string(ctx), "CDK_OUTDIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("synth without bootstraps succeeded:\n%s", out)
	}
	text := strings.TrimSpace(string(out))
	if strings.Contains(text, "panic") || strings.Contains(text, "goroutine") {
		t.Errorf("synth without bootstraps panicked:\n%s", text)
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if !strings.HasPrefix(l, "exit status") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "run `make build`") {
		t.Errorf("want one line saying to run `make build`, got:\n%s", text)
	}
}
