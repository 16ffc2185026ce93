package stopcoord

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"

	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
)

// Settings are the per-account choices a deployment makes through CDK
// context. They are validated together, so a bad deployment fails synth
// with every problem listed.
type Settings struct {
	// AllowedPipelines are pipeline-name patterns (path.Match syntax) the
	// stack may stop; IAM is scoped to them. Default: every pipeline.
	AllowedPipelines []string
	// AlarmEmail, when set, is subscribed to the alarm topic.
	AlarmEmail string
	// AlarmTopicARN, when set, is an existing SNS topic (a chat
	// integration, a pager) every alarm also notifies. With neither it nor
	// AlarmEmail, alarms reach nobody: synth warns.
	AlarmTopicARN string
	// StopOpenAlarmMinutes is how long a stop may stay open before the
	// "stop open too long" alarm fires (from the sweeper's
	// OldestOpenStopAgeSeconds metric).
	StopOpenAlarmMinutes float64
	// SageMakerCallsPerSecond is the stop queue consumer's budget.
	SageMakerCallsPerSecond float64
	// LogRetentionDays for every function's and the API's logs.
	LogRetentionDays float64
	// Policies is the per-pipeline policy JSON (package shared/policy),
	// validated at synth so a bad policy never deploys.
	Policies string
	// SweepEvery is how often the sweeper runs.
	SweepEveryMinutes float64
	// ScheduledStops are rules that stop every running execution of a
	// pipeline on a schedule (the nightly stop of dev pipelines).
	ScheduledStops []ScheduledStop
	// CleanupScope is what stopcoord may clean up or hand work to, per
	// kind ({"sfn-execution": ["arn:aws:states:*:*:execution:etl-*:*"]},
	// see pipeline.ParseCleanupScope). It is enforced in code before every
	// cleaner, and the cleaner grants are scoped to it in IAM. Empty (the
	// default) allows nothing: no cleaner or hand-off grant at all.
	CleanupScope string
}

// ScheduledStop is one scheduled rule that stops a pipeline's executions.
type ScheduledStop struct {
	Schedule     string `json:"schedule"` // an EventBridge schedule expression: cron(...) or rate(...)
	PipelineName string `json:"pipelineName"`
	Reason       string `json:"reason,omitempty"`
	Mode         string `json:"mode,omitempty"`
}

// DefaultSettings are what an empty context gives.
func DefaultSettings() Settings {
	return Settings{AllowedPipelines: []string{"*"}, SageMakerCallsPerSecond: 10, LogRetentionDays: 30, SweepEveryMinutes: 5, StopOpenAlarmMinutes: 15}
}

func (s Settings) validate() []error {
	var errs []error
	if len(s.AllowedPipelines) == 0 {
		errs = append(errs, fmt.Errorf("allowedPipelines is empty: give at least one pattern (\"*\" for all)"))
	}
	for _, p := range s.AllowedPipelines {
		if _, err := path.Match(p, ""); err != nil || strings.ContainsAny(p, "[]\\") || p == "" {
			errs = append(errs, fmt.Errorf("allowedPipelines: %q is not a pattern IAM can express (use letters, digits, '-', '*' and '?')", p))
		}
	}
	if s.AlarmEmail != "" && !strings.Contains(s.AlarmEmail, "@") {
		errs = append(errs, fmt.Errorf("alarmEmail: %q is not an email address", s.AlarmEmail))
	}
	if s.SageMakerCallsPerSecond < 1 || s.SageMakerCallsPerSecond > 1000 {
		errs = append(errs, fmt.Errorf("sageMakerCallsPerSecond: %v is not between 1 and 1000", s.SageMakerCallsPerSecond))
	}
	if _, err := pipeline.ParseCleanupScope(s.CleanupScope, pipeline.ScopeKinds()); err != nil {
		errs = append(errs, fmt.Errorf("cleanupScope: %w", err))
	}
	if s.Policies != "" {
		set, err := policy.Parse([]byte(s.Policies))
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("policies: %w", err))
		case len(set.AllowedPipelines()) > 0:
			errs = append(errs, fmt.Errorf("policies: give allowed pipelines as the stopcoord:allowedPipelines context, not inside the policies"))
		}
	}
	if s.AlarmTopicARN != "" && !alarmTopicPattern.MatchString(s.AlarmTopicARN) {
		errs = append(errs, fmt.Errorf("alarmTopicArn: %q is not an SNS topic ARN", s.AlarmTopicARN))
	}
	if s.StopOpenAlarmMinutes < 1 || s.StopOpenAlarmMinutes > 1440 {
		errs = append(errs, fmt.Errorf("stopOpenAlarmMinutes: %v is not between 1 and 1440", s.StopOpenAlarmMinutes))
	}
	if s.SweepEveryMinutes < 1 || s.SweepEveryMinutes > 60 {
		errs = append(errs, fmt.Errorf("sweepEveryMinutes: %v is not between 1 and 60", s.SweepEveryMinutes))
	}
	for i, st := range s.ScheduledStops {
		if !strings.HasPrefix(st.Schedule, "cron(") && !strings.HasPrefix(st.Schedule, "rate(") {
			errs = append(errs, fmt.Errorf("scheduledStops[%d].schedule: %q is not cron(...) or rate(...)", i, st.Schedule))
		}
		if err := pipeline.ValidatePipelineName(st.PipelineName); err != nil {
			errs = append(errs, fmt.Errorf("scheduledStops[%d].pipelineName: %w", i, err))
		}
		if _, err := pipeline.ParseStopMode(st.Mode); err != nil {
			errs = append(errs, fmt.Errorf("scheduledStops[%d].mode: %w", i, err))
		}
	}
	if _, ok := retentions[s.LogRetentionDays]; !ok {
		errs = append(errs, fmt.Errorf("logRetentionDays: %v is not a retention CloudWatch Logs offers", s.LogRetentionDays))
	}
	return errs
}

var alarmTopicPattern = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$`)

// NotifiesNobody reports whether the alarms reach no one: no email and no
// topic configured.
func (s Settings) NotifiesNobody() bool { return s.AlarmEmail == "" && s.AlarmTopicARN == "" }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// retentions maps the retention periods CloudWatch Logs offers, in days,
// to the CDK's names for them.
var retentions = map[float64]awslogs.RetentionDays{
	1: awslogs.RetentionDays_ONE_DAY, 3: awslogs.RetentionDays_THREE_DAYS, 5: awslogs.RetentionDays_FIVE_DAYS,
	7: awslogs.RetentionDays_ONE_WEEK, 14: awslogs.RetentionDays_TWO_WEEKS, 30: awslogs.RetentionDays_ONE_MONTH,
	60: awslogs.RetentionDays_TWO_MONTHS, 90: awslogs.RetentionDays_THREE_MONTHS, 120: awslogs.RetentionDays_FOUR_MONTHS,
	150: awslogs.RetentionDays_FIVE_MONTHS, 180: awslogs.RetentionDays_SIX_MONTHS, 365: awslogs.RetentionDays_ONE_YEAR,
	400: awslogs.RetentionDays_THIRTEEN_MONTHS, 545: awslogs.RetentionDays_EIGHTEEN_MONTHS, 731: awslogs.RetentionDays_TWO_YEARS,
	1096: awslogs.RetentionDays_THREE_YEARS, 1827: awslogs.RetentionDays_FIVE_YEARS, 2192: awslogs.RetentionDays_SIX_YEARS,
	2557: awslogs.RetentionDays_SEVEN_YEARS, 2922: awslogs.RetentionDays_EIGHT_YEARS, 3288: awslogs.RetentionDays_NINE_YEARS,
	3653: awslogs.RetentionDays_TEN_YEARS,
}
