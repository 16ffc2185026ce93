package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/cmd/stopcoord/internal/doctor"
)

func (c *cli) doctor(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	var cfg doctor.Config
	fs.StringVar(&cfg.RoleARN, "role", "", "the throwaway pipeline's execution role (required; see --permissions)")
	fs.StringVar(&cfg.LambdaRoleARN, "lambda-role", "", "the throwaway function's execution role (default: --role)")
	fs.StringVar(&cfg.Prefix, "prefix", "stopcoord-doctor", "start of every name the doctor creates")
	fs.DurationVar(&cfg.LambdaSleep, "lambda-sleep", time.Minute, "how long the stop probe's Lambda step runs")
	fs.DurationVar(&cfg.LambdaTimeout, "lambda-timeout", 30*time.Second, "the timeout probe's definition-level Lambda Timeout (its function runs twice as long)")
	fs.DurationVar(&cfg.MessageWait, "message-wait", 2*time.Minute, "how long to wait for each callback message")
	fs.DurationVar(&cfg.Poll, "poll", 2*time.Second, "delay between status reads")
	permissions := fs.Bool("permissions", false, "print the IAM permissions the doctor needs, and exit")
	output := fs.String("o", "text", "output: text or json")
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, `usage: stopcoord doctor --role ARN [flags]

Creates a throwaway pipeline with a callback step (on a temporary SQS queue) and a Lambda step
(a temporary Python function), starts and stops it, and reports how SageMaker behaved where its
documentation is silent, with the SageMaker emulator switch that matches. Everything it creates
is deleted at the end, also on Ctrl-C. Endpoints follow the SDK: AWS_ENDPOINT_URL_SAGEMAKER,
AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_LAMBDA.

`)
		fs.PrintDefaults()
	}
	if _, err := parse(fs, args); err != nil {
		return exitUsage, err
	}
	if *permissions {
		fmt.Fprintf(c.stdout, "the caller needs:\n  %s\nthe pipeline role (--role) needs:\n  %s\n",
			strings.Join(doctor.Permissions, "\n  "), strings.Join(doctor.PipelineRolePermissions, "\n  "))
		return exitOK, nil
	}
	if cfg.RoleARN == "" {
		return exitUsage, usagef("--role is required: the throwaway pipeline's execution role (stopcoord doctor --permissions lists what it needs)")
	}
	if *output != "text" && *output != "json" {
		return exitUsage, usagef("-o %q: want text or json", *output)
	}
	awsCfg, err := c.loadAWS(ctx)
	if err != nil {
		return exitError, fmt.Errorf("load AWS configuration: %w", err)
	}
	cfg.Log = c.stderr
	report, err := doctor.Run(ctx, doctor.Deps{
		SageMaker: sagemaker.NewFromConfig(awsCfg),
		SQS:       sqs.NewFromConfig(awsCfg),
		Lambda:    lambda.NewFromConfig(awsCfg),
	}, cfg)
	if report != nil {
		if *output == "json" {
			if werr := writeJSON(c.stdout, report); werr != nil {
				return exitError, werr
			}
		} else if len(report.Findings) > 0 {
			fmt.Fprintln(c.stdout)
			report.Print(c.stdout)
			fmt.Fprintln(c.stdout, "\nPlease share this table (stopcoord doctor -o json) with the stopcoord maintainers, so the emulator's defaults follow the real service.")
		}
	}
	if err != nil {
		return exitError, err
	}
	return exitOK, nil
}
