package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

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
	c := &config{opts: emulator.Options{Lambda: map[string]emulator.LambdaEndpoint{}}}
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
	o.AddFlags(fs) // time, switches and faults: the same flags as stopcoord-local's
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
		if f.Name == "lambda" || f.Name == "lambda-rie" || slices.Contains(emulator.RepeatableFlags, f.Name) {
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
