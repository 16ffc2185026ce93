// Package startup is how every function's main begins: JSON logging, the
// function's settings read and validated from the environment, the AWS
// configuration, and the observability every function shares: the
// metrics recorder (EMF on stdout), a count of SageMaker throttles, and an
// X-Ray subsegment for every AWS call. A failure ends start-up with one
// structured line, before the first invocation, so a misconfigured deploy
// fails loudly at once.
package startup

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// Load sets up logging, reads the function's settings with load (which
// reports every problem at once) and loads the AWS configuration from the
// default chain, whose AWS_ENDPOINT_URL_* variables point it at the local
// parts when they run locally. Every client made from the configuration
// counts SageMaker throttles and, where Lambda runs the X-Ray daemon, is
// traced; metrics.Default() records to the function's log.
func Load[T any](ctx context.Context, load func(*settings.Env) (T, error)) (T, aws.Config, *slog.Logger) {
	log := logging.New()
	env := settings.FromOS()
	rec := recorder(env)
	cfg, err := load(env)
	if err != nil {
		exit(log, "bad configuration", err)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		exit(log, "load AWS configuration", err)
	}
	metrics.SetDefault(rec)
	Instrument(&awsCfg, rec, os.Getenv(xrayDaemonAddress))
	return cfg, awsCfg, log
}

// DefaultDeployment is the Deployment dimension of a function run outside a
// stack (nothing set STOPCOORD_DEPLOYMENT).
const DefaultDeployment = "local"

// recorder is the function's metrics recorder: EMF lines on stdout with
// the stack's name as the Deployment dimension.
func recorder(env *settings.Env) metrics.Recorder {
	return metrics.NewEMF(os.Stdout, env.Optional(settings.Deployment, DefaultDeployment))
}

// Instrument adds the shared observability to an AWS configuration: every
// throttled SageMaker attempt is recorded, and, when daemon (the X-Ray
// daemon's address Lambda sets with active tracing) is not empty, every
// call becomes an X-Ray subsegment of the invocation's trace.
func Instrument(cfg *aws.Config, rec metrics.Recorder, daemon string) {
	cfg.APIOptions = append(cfg.APIOptions, metrics.CountThrottles(rec))
	if daemon != "" {
		cfg.APIOptions = append(cfg.APIOptions, traceCalls(newDaemonSender(daemon)))
	}
}

func exit(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
