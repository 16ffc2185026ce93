package emulator

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// AddFlags registers on fs the flags for how the emulator behaves: how
// time passes, the switches for what the documentation leaves open, and
// the faults to inject. It writes into o, whose zero fields get the
// defaults. Every command that runs the emulator (sagemaker-emulator,
// stopcoord-local, chaos) calls it, so a switch has one flag, one meaning
// and one default everywhere. Where the emulator sends things (endpoints,
// Lambda functions) is each command's own business.
func (o *Options) AddFlags(fs *flag.FlagSet) {
	if o.Faults == nil {
		o.Faults = map[string]Fault{}
	}
	fs.Float64Var(&o.TimeScale, "time-scale", 1, "multiplier for modelled durations (job runs, stop delays, Lambda timeouts); 0.001 makes a second a millisecond")
	fs.DurationVar(&o.JobDuration, "job-duration", defaultJobDuration, "how long simulated jobs run unless x-emulator.durationMs says otherwise")
	fs.DurationVar(&o.StopDelay, "stop-delay", defaultStopDelay, "how long simulated jobs stay Stopping unless x-emulator.stopDelayMs says otherwise")
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
	fs.Func("fault", "inject faults into operation OP (or * for every other), given as `OP:throttle=P,5xx=P,latency=D`; repeatable", o.setFault)
	fs.Int64Var(&o.Seed, "seed", 1, "seed for fault injection, dropped messages and event duplication and reordering")
	fs.IntVar(&o.MaxPipelines, "max-pipelines", defaultMaxPipelines, "pipelines quota (ResourceLimitExceeded beyond it)")
	fs.IntVar(&o.MaxRunningExecutions, "max-running", defaultMaxRunning, "running executions quota (ResourceLimitExceeded beyond it)")
	fs.IntVar(&o.MaxPipelineVersions, "max-versions", 1000, "versions kept per pipeline (UpdatePipeline beyond it is a ConflictException)")
}

// RepeatableFlags are the flags AddFlags registers that may be given more
// than once.
var RepeatableFlags = []string{"fault"}

// setFault parses OP:throttle=0.1,5xx=0.05,latency=20ms.
func (o *Options) setFault(s string) error {
	op, spec, ok := strings.Cut(s, ":")
	if !ok || op == "" {
		return fmt.Errorf("%q: want OP:throttle=P,5xx=P,latency=D", s)
	}
	var f Fault
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
