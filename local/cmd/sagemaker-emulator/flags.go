package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

// envPrefix: every flag can also come from SAGEMAKER_EMULATOR_<FLAG NAME>
// (upper case, dashes as underscores); a flag on the command line wins.
// Repeatable flags take several values separated by ";" in the variable.
const envPrefix = "SAGEMAKER_EMULATOR_"

var errHelp = errors.New("help requested")

type config struct {
	addr     string
	logLevel slog.Level
	opts     emulator.Options
}

func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (*config, error) {
	c := &config{opts: emulator.Options{Lambda: map[string]emulator.LambdaEndpoint{}, Faults: map[string]emulator.Fault{}}}
	o := &c.opts
	fs := flag.NewFlagSet("sagemaker-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:0", "listen address; port 0 picks a free one (the URL is printed on stdout)")
	fs.StringVar(&o.Region, "region", "us-east-1", "region in ARNs and events")
	fs.StringVar(&o.AccountID, "account", "123456789012", "account id in ARNs and events")
	fs.StringVar(&o.SQSEndpoint, "sqs-endpoint", "", "SQS endpoint for callback messages (moto); empty: the host of each SqsQueueUrl")
	fs.StringVar(&o.EventBridgeEndpoint, "events-endpoint", "", "EventBridge endpoint for PutEvents (moto); empty: no PutEvents")
	fs.StringVar(&o.EventBusName, "event-bus", "default", "event bus name for PutEvents")
	fs.StringVar(&o.EventsFile, "events-file", "", "append every event as a JSON line to this file")
	fs.Func("lambda", "run Lambda steps of function ARN (or * for any) by POSTing the event to URL, given as `ARN=URL`; repeatable", lambdaFlag(o, false))
	fs.Func("lambda-rie", "as -lambda, but URL is an aws-lambda-rie address (POST {URL}/2015-03-31/functions/function/invocations, one call at a time), given as `ARN=URL`; repeatable", lambdaFlag(o, true))
	fs.Float64Var(&o.TimeScale, "time-scale", 1, "multiplier for modelled durations (job runs, stop delays, Lambda timeouts); 0.001 makes a second a millisecond")
	fs.DurationVar(&o.JobDuration, "job-duration", 2*time.Second, "how long simulated jobs run unless x-emulator.durationMs says otherwise")
	fs.DurationVar(&o.StopDelay, "stop-delay", time.Second, "how long simulated jobs stay Stopping unless x-emulator.stopDelayMs says otherwise")
	fs.BoolVar(&o.Switches.NewStoppingToken, "new-stopping-token", false, "the Stopping message carries a new callback token (default: the start token again)")
	fs.StringVar(&o.Switches.StatusKey, "status-key", "status", "status key in callback messages: status or Status")
	fs.BoolVar(&o.Switches.OmitStartStatus, "omit-start-status", false, "leave the status key out of the first callback message (default: \"Executing\")")
	fs.Float64Var(&o.Switches.DropStoppingMessage, "drop-stopping", 0, "probability, per execution, that its Stopping messages are never sent")
	fs.Float64Var(&o.Switches.DuplicateEvents, "duplicate-events", 0, "probability that an event is delivered twice")
	fs.Float64Var(&o.Switches.ReorderEvents, "reorder-events", 0, "probability that an event is delivered after the next one")
	fs.BoolVar(&o.Switches.RetryRerunsAll, "retry-reruns-all", false, "RetryPipelineExecution runs succeeded steps again too (default: only failed, stopped and never-started steps)")
	fs.BoolVar(&o.Switches.RetryKeepsCallbackToken, "retry-keeps-callback-token", false, "a retried callback step reuses its first attempt's token (default: a new token per attempt)")
	fs.BoolVar(&o.Switches.ListEveryAttempt, "list-every-attempt", false, "ListPipelineExecutionSteps lists attempts a retry replaced too (default: the latest attempt of each step)")
	fs.BoolVar(&o.Switches.VersionOnDefinitionChange, "version-on-definition-change", false, "UpdatePipeline records a pipeline version only when the definition changes (default: on every update)")
	fs.Func("fault", "inject faults into operation OP (or * for every other), given as `OP:throttle=P,5xx=P,latency=D`; repeatable", faultFlag(o))
	fs.Int64Var(&o.Seed, "seed", 1, "seed for fault injection, dropped messages and event duplication and reordering")
	fs.IntVar(&o.MaxPipelines, "max-pipelines", 500, "pipelines quota (ResourceLimitExceeded beyond it)")
	fs.IntVar(&o.MaxRunningExecutions, "max-running", 200, "running executions quota (ResourceLimitExceeded beyond it)")
	fs.IntVar(&o.MaxPipelineVersions, "max-versions", 1000, "versions kept per pipeline (UpdatePipeline beyond it is a ConflictException)")
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "log level: DEBUG, INFO, WARN or ERROR (logs are JSON on stderr)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sagemaker-emulator [flags]\n\n"+
			"Serves the SageMaker Pipelines API (AWS JSON 1.1) for the unmodified SDK client\n"+
			"(BaseEndpoint or AWS_ENDPOINT_URL_SAGEMAKER). Every flag can also be set as\n"+
			"%s<NAME> (upper case, - as _; repeatable values separated by ;).\n\nFlags:\n", envPrefix)
		fs.PrintDefaults()
	}

	// Environment first, so the command line overrides it.
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		values := []string{v}
		if f.Name == "lambda" || f.Name == "lambda-rie" || f.Name == "fault" {
			values = strings.Split(v, ";")
		}
		for _, value := range values {
			if err := fs.Set(f.Name, strings.TrimSpace(value)); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", envName(f.Name), err))
			}
		}
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, nil
}

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func lambdaFlag(o *emulator.Options, rie bool) func(string) error {
	return func(s string) error {
		arn, url, ok := strings.Cut(s, "=")
		if !ok || arn == "" || url == "" {
			return fmt.Errorf("%q: want ARN=URL", s)
		}
		o.Lambda[arn] = emulator.LambdaEndpoint{URL: url, RIE: rie}
		return nil
	}
}

// faultFlag parses OP:throttle=0.1,5xx=0.05,latency=20ms.
func faultFlag(o *emulator.Options) func(string) error {
	return func(s string) error {
		op, spec, ok := strings.Cut(s, ":")
		if !ok || op == "" {
			return fmt.Errorf("%q: want OP:throttle=P,5xx=P,latency=D", s)
		}
		var f emulator.Fault
		for _, kv := range strings.Split(spec, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
			if !ok {
				return fmt.Errorf("%q: want key=value", kv)
			}
			var err error
			switch k {
			case "throttle":
				f.ThrottleRate, err = strconv.ParseFloat(v, 64)
			case "5xx":
				f.ServerErrorRate, err = strconv.ParseFloat(v, 64)
			case "latency":
				f.Latency, err = time.ParseDuration(v)
			default:
				err = fmt.Errorf("unknown fault %q (want throttle, 5xx or latency)", k)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", kv, err)
			}
		}
		o.Faults[op] = f
		return nil
	}
}
