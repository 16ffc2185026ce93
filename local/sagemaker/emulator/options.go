package emulator

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Options configures an Emulator. The zero value is usable: events go
// nowhere, callback messages go to the host of each step's SqsQueueUrl, and
// Lambda steps fail because no endpoint is configured.
type Options struct {
	// Region and AccountID go into every ARN and event. Defaults: us-east-1
	// and 123456789012 (the account moto uses).
	Region    string
	AccountID string

	// SQSEndpoint is where callback messages are sent (moto locally). Empty
	// means the scheme and host of the step's SqsQueueUrl.
	SQSEndpoint string
	// EventBridgeEndpoint receives PutEvents for every status change. Empty
	// means no PutEvents (EventsFile can still record them).
	EventBridgeEndpoint string
	// EventBusName is the bus PutEvents targets. Default "default".
	EventBusName string
	// EventsFile, when set, gets every event envelope appended as one JSON
	// line, in the order they are delivered.
	EventsFile string

	// Lambda maps a function ARN, or "*" for every other ARN, to the endpoint
	// that runs it.
	Lambda map[string]LambdaEndpoint

	// TimeScale multiplies every modelled duration: job durations, stop
	// delays and Lambda step timeouts. 1 is real time; 0.001 turns the
	// 120 s Lambda default into 120 ms. Zero means 1. It does not touch
	// timestamps (always wall-clock) or injected HTTP latency.
	TimeScale float64
	// JobDuration is how long a simulated Training, Processing, Transform or
	// other job step runs unless its definition says otherwise. Default 2 s.
	JobDuration time.Duration
	// StopDelay is how long a simulated job stays Stopping after a stop.
	// Default 1 s.
	StopDelay time.Duration

	// Switches pick a side where the AWS documentation does not.
	Switches Switches
	// Faults injects errors and latency per operation name
	// ("StopPipelineExecution") or "*" for every operation without an entry.
	Faults map[string]Fault
	// Seed makes fault injection, dropped Stopping messages and event
	// duplication and reordering reproducible. Zero means 1.
	Seed int64

	// MaxPipelines and MaxRunningExecutions are the quotas behind
	// ResourceLimitExceeded. Defaults 500 and 200 (per emulated account).
	MaxPipelines         int
	MaxRunningExecutions int
	// MaxPipelineVersions bounds the versions one pipeline keeps; an
	// UpdatePipeline beyond it is a ConflictException (the model declares no
	// limit error for UpdatePipeline). Default 1000.
	MaxPipelineVersions int
	// MaxRetries bounds RetryPipelineExecution calls per execution (each
	// keeps the replaced step attempts); one more is ResourceLimitExceeded.
	// Default 100.
	MaxRetries int
	// MaxBodyBytes bounds a request body. Default 4 MiB (a 1 MiB definition
	// can double in size once JSON-escaped).
	MaxBodyBytes int64

	// AWSConfig is the base SDK configuration for the SQS and EventBridge
	// clients. Default: static test credentials (localaws.Config) in Region.
	AWSConfig *aws.Config
	// Now is the wall clock for timestamps. Default time.Now.
	Now func() time.Time
	// Logger receives what the emulator does and every delivery failure.
	// Default: discard.
	Logger *slog.Logger
}

// LambdaEndpoint is where a Lambda step's function runs.
type LambdaEndpoint struct {
	// URL is the base URL. With RIE it is an aws-lambda-rie
	// --runtime-interface-emulator-address, and the emulator POSTs to
	// {URL}/2015-03-31/functions/function/invocations, one call at a time
	// (RIE crashes on concurrent invokes). Without RIE the URL itself gets
	// the POST of the event JSON and must answer with the output JSON.
	URL string
	RIE bool
}

// Switches model what the documentation leaves open. Each zero value is the
// default described in README.md.
type Switches struct {
	// NewStoppingToken makes the Stopping message carry a fresh callback
	// token (which also answers the step) instead of reusing the start token.
	NewStoppingToken bool
	// StatusKey is the key of the status member in callback messages:
	// "status" (default, as the developer guide's example) or "Status" (as
	// the API reference's prose).
	StatusKey string
	// OmitStartStatus leaves the status member out of the first callback
	// message; by default it says "Executing".
	OmitStartStatus bool
	// DropStoppingMessage is the probability, drawn once per execution, that
	// none of its Stopping messages are sent (1 drops every one).
	DropStoppingMessage float64
	// DuplicateEvents is the probability that an event is delivered twice.
	DuplicateEvents float64
	// ReorderEvents is the probability that an event is held back and
	// delivered after the next one.
	ReorderEvents float64

	// RetryRerunsAll makes RetryPipelineExecution run every step again,
	// succeeded ones too; by default succeeded steps are kept and only
	// failed, stopped and never-started steps run.
	RetryRerunsAll bool
	// RetryKeepsCallbackToken makes a retried callback step reuse the token
	// of its first attempt (in its start and Stopping messages); by default
	// each attempt gets a new token and the old one answers nothing.
	RetryKeepsCallbackToken bool
	// ListEveryAttempt makes ListPipelineExecutionSteps list the attempts a
	// retry replaced as well; by default it lists the latest attempt of each
	// step, with its AttemptCount.
	ListEveryAttempt bool
	// VersionOnDefinitionChange makes UpdatePipeline record a new pipeline
	// version only when PipelineDefinition changes; by default every
	// UpdatePipeline records one.
	VersionOnDefinitionChange bool
}

// Fault is what to inject into one operation.
type Fault struct {
	// ThrottleRate is the probability of ThrottlingException (HTTP 400).
	ThrottleRate float64
	// ServerErrorRate is the probability of InternalFailure (HTTP 500).
	ServerErrorRate float64
	// Latency is added to every call before it is handled.
	Latency time.Duration
}

const (
	defaultRegion        = "us-east-1"
	defaultAccountID     = "123456789012"
	defaultBus           = "default"
	defaultJobDuration   = 2 * time.Second
	defaultStopDelay     = 1 * time.Second
	defaultMaxPipelines  = 500
	defaultMaxRunning    = 200
	defaultMaxVersions   = 1000
	defaultMaxRetries    = 100
	defaultMaxBodyBytes  = 4 << 20
	defaultLambdaTimeout = 120 * time.Second
	maxLambdaTimeout     = 600 * time.Second
)

// withDefaults fills the zero values and reports every invalid setting at
// once, so a misconfigured command fails with one complete message.
func (o Options) withDefaults() (Options, error) {
	var errs []error
	if o.Region == "" {
		o.Region = defaultRegion
	}
	if o.AccountID == "" {
		o.AccountID = defaultAccountID
	}
	if len(o.AccountID) != 12 || !isDigits(o.AccountID) {
		errs = append(errs, fmt.Errorf("account id %q: want 12 digits", o.AccountID))
	}
	if o.EventBusName == "" {
		o.EventBusName = defaultBus
	}
	for name, u := range map[string]string{"sqs endpoint": o.SQSEndpoint, "event bus endpoint": o.EventBridgeEndpoint} {
		if u != "" {
			if err := checkURL(u); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	}
	for arn, ep := range o.Lambda {
		if err := checkURL(ep.URL); err != nil {
			errs = append(errs, fmt.Errorf("lambda endpoint for %s: %w", arn, err))
		}
	}
	switch {
	case o.TimeScale == 0:
		o.TimeScale = 1
	case o.TimeScale < 0:
		errs = append(errs, fmt.Errorf("time scale %v: must not be negative", o.TimeScale))
	}
	if o.JobDuration == 0 {
		o.JobDuration = defaultJobDuration
	}
	if o.StopDelay == 0 {
		o.StopDelay = defaultStopDelay
	}
	if o.JobDuration < 0 || o.StopDelay < 0 {
		errs = append(errs, errors.New("job duration and stop delay must not be negative"))
	}
	switch o.Switches.StatusKey {
	case "":
		o.Switches.StatusKey = "status"
	case "status", "Status":
	default:
		errs = append(errs, fmt.Errorf("status key %q: want status or Status", o.Switches.StatusKey))
	}
	for name, p := range map[string]float64{
		"drop stopping message": o.Switches.DropStoppingMessage,
		"duplicate events":      o.Switches.DuplicateEvents,
		"reorder events":        o.Switches.ReorderEvents,
	} {
		errs = append(errs, checkRate(name, p))
	}
	for op, f := range o.Faults {
		if op != "*" && operations[op] == nil {
			errs = append(errs, fmt.Errorf("fault for %q: not an emulated operation", op))
		}
		errs = append(errs, checkRate(op+" throttle rate", f.ThrottleRate), checkRate(op+" 5xx rate", f.ServerErrorRate))
		if f.ThrottleRate+f.ServerErrorRate > 1 {
			errs = append(errs, fmt.Errorf("fault for %s: throttle and 5xx rates add up to more than 1", op))
		}
		if f.Latency < 0 {
			errs = append(errs, fmt.Errorf("fault for %s: negative latency", op))
		}
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	if o.MaxPipelines == 0 {
		o.MaxPipelines = defaultMaxPipelines
	}
	if o.MaxRunningExecutions == 0 {
		o.MaxRunningExecutions = defaultMaxRunning
	}
	if o.MaxPipelineVersions == 0 {
		o.MaxPipelineVersions = defaultMaxVersions
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = defaultMaxRetries
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = defaultMaxBodyBytes
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, errors.Join(errs...)
}

func checkRate(name string, p float64) error {
	if p < 0 || p > 1 {
		return fmt.Errorf("%s %v: want a probability between 0 and 1", name, p)
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: want an http(s) URL with a host", s)
	}
	return nil
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// scaled turns a modelled duration into the wall-clock wait.
func (o *Options) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * o.TimeScale)
}
