package stopcoord

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// Context keys (cdk.json or `cdk deploy -c key=value`).
const (
	// contextLedgerDeletionProtection turns DynamoDB deletion protection on
	// the ledger table on or off.
	contextLedgerDeletionProtection = "stopcoord:ledgerDeletionProtection"
	contextAllowedPipelines         = "stopcoord:allowedPipelines" // a list, or comma-separated
	contextAlarmEmail               = "stopcoord:alarmEmail"
	contextCallsPerSecond           = "stopcoord:sageMakerCallsPerSecond"
	contextLogRetentionDays         = "stopcoord:logRetentionDays"
	// ContextAssetDir is where `make build` put the bootstraps (default dist).
	ContextAssetDir             = "stopcoord:assetDir"
	contextPolicies             = "stopcoord:policies" // an object (see shared/policy) or its JSON text
	contextSweepEveryMinutes    = "stopcoord:sweepEveryMinutes"
	contextScheduledStops       = "stopcoord:scheduledStops" // a list of {schedule, pipelineName, reason, mode}
	contextAlarmTopicARN        = "stopcoord:alarmTopicArn"  // an existing SNS topic (chat, paging) the alarms also go to
	contextStopOpenAlarmMinutes = "stopcoord:stopOpenAlarmMinutes"
	contextCleanupScope         = "stopcoord:cleanupScope"   // an object {kind: [patterns]} or its JSON text
	contextStopRequesters       = "stopcoord:stopRequesters" // principal ARN patterns: a list, or comma-separated
	// ContextStage names a deployment: the stack becomes StopCoord-<stage>,
	// so dev and prod can share an account and region.
	ContextStage = "stopcoord:stage"
	// ContextStackName sets the stack name outright (it wins over the stage).
	ContextStackName = "stopcoord:stackName"
)

// DefaultStackName is the stack's name when no stage or name is given.
const DefaultStackName = "StopCoord"

// StackNameFromContext is the stack name the context asks for:
// stopcoord:stackName, else StopCoord-<stopcoord:stage>, else StopCoord.
func StackNameFromContext(lookup func(key *string) any) (string, error) {
	name, _ := lookup(jsii.String(ContextStackName)).(string)
	stage, _ := lookup(jsii.String(ContextStage)).(string)
	switch {
	case name != "":
	case stage != "":
		name = DefaultStackName + "-" + stage
	default:
		name = DefaultStackName
	}
	// CloudFormation: letters, digits and hyphens, starting with a letter,
	// at most 128 characters.
	if !stackNamePattern.MatchString(name) {
		return "", fmt.Errorf("stack name %q (from %s or %s): use letters, digits and hyphens, starting with a letter, at most 128 characters", name, ContextStackName, ContextStage)
	}
	return name, nil
}

var stackNamePattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)

// PropsFromContext builds the stack's props from CDK context, as the
// repository's app does; an app of your own may use it too, or fill
// StopCoordStackProps itself. lookup is Node.TryGetContext; taking it as a
// function keeps this testable without starting the jsii runtime.
func PropsFromContext(lookup func(key *string) any) (*StopCoordStackProps, error) {
	// An unset value keeps the table protected: forgetting the setting must
	// not be what makes the ledger deletable.
	protect, err := contextBool(lookup, contextLedgerDeletionProtection, true)
	if err != nil {
		return nil, err
	}
	set := DefaultSettings()
	var errs []error
	if v := lookup(jsii.String(contextAllowedPipelines)); v != nil {
		if set.AllowedPipelines, err = contextStrings(v); err != nil {
			errs = append(errs, fmt.Errorf("read context %s: %w", contextAllowedPipelines, err))
		}
	}
	if v := lookup(jsii.String(contextStopRequesters)); v != nil {
		if set.StopRequesters, err = contextStrings(v); err != nil {
			errs = append(errs, fmt.Errorf("read context %s: %w", contextStopRequesters, err))
		}
	}
	if v, ok := lookup(jsii.String(contextAlarmEmail)).(string); ok {
		set.AlarmEmail = v
	}
	if v, ok := lookup(jsii.String(contextAlarmTopicARN)).(string); ok {
		set.AlarmTopicARN = v
	}
	if v := lookup(jsii.String(contextPolicies)); v != nil {
		if text, ok := v.(string); ok {
			set.Policies = text
		} else {
			b, _ := json.Marshal(v)
			set.Policies = string(b)
		}
	}
	if v := lookup(jsii.String(contextCleanupScope)); v != nil {
		if text, ok := v.(string); ok {
			set.CleanupScope = text
		} else {
			b, _ := json.Marshal(v)
			set.CleanupScope = string(b)
		}
	}
	if v := lookup(jsii.String(contextScheduledStops)); v != nil {
		b, _ := json.Marshal(v)
		if text, ok := v.(string); ok {
			b = []byte(text)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&set.ScheduledStops); err != nil {
			errs = append(errs, fmt.Errorf("read context %s: %w", contextScheduledStops, err))
		}
	}
	for key, into := range map[string]*float64{contextCallsPerSecond: &set.SageMakerCallsPerSecond, contextLogRetentionDays: &set.LogRetentionDays, contextSweepEveryMinutes: &set.SweepEveryMinutes, contextStopOpenAlarmMinutes: &set.StopOpenAlarmMinutes} {
		if *into, err = contextNumber(lookup, key, *into); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, set.validate()...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	name, err := StackNameFromContext(lookup)
	if err != nil {
		return nil, err
	}
	assets, _ := lookup(jsii.String(ContextAssetDir)).(string)
	return &StopCoordStackProps{
		StackProps: awscdk.StackProps{
			StackName:   jsii.String(name),
			Description: jsii.String("stopcoord: coordinates stopping SageMaker pipeline executions"),
		},
		LedgerDeletionProtection: protect,
		AssetDir:                 assets,
		Settings:                 set,
	}, nil
}

// contextStrings reads a list of strings: a JSON list from cdk.json, or a
// comma-separated string from -c.
func contextStrings(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, got %v (%T)", item, item)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a list of strings, got %v (%T)", v, v)
}

// contextNumber reads a number: a JSON number or a string from -c.
func contextNumber(lookup func(key *string) any, key string, unset float64) (float64, error) {
	switch v := lookup(jsii.String(key)).(type) {
	case nil:
		return unset, nil
	case float64:
		return v, nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("read context %s: want a number, got %q", key, v)
		}
		return f, nil
	default:
		return 0, fmt.Errorf("read context %s: want a number, got %v (%T)", key, v, v)
	}
}

// contextBool reads a boolean context value. cdk.json supplies JSON booleans,
// while `cdk synth -c key=value` supplies strings, so both are accepted.
func contextBool(lookup func(key *string) any, key string, unset bool) (bool, error) {
	switch v := lookup(jsii.String(key)).(type) {
	case nil:
		return unset, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("read context %s: want true or false, got %q", key, v)
		}
		return b, nil
	default:
		return false, fmt.Errorf("read context %s: want true or false, got %v (%T)", key, v, v)
	}
}
