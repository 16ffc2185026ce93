// Package startup is how every function's main begins: JSON logging, the
// function's settings read and validated from the environment, and the AWS
// configuration. A failure ends start-up with one structured line, before
// the first invocation, so a misconfigured deploy fails loudly at once.
package startup

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stopcoord/stopcoord/shared/logging"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// Load sets up logging, reads the function's settings with load (which
// reports every problem at once) and loads the AWS configuration from the
// default chain, whose AWS_ENDPOINT_URL_* variables point it at the local
// parts when they run locally.
func Load[T any](ctx context.Context, load func(*settings.Env) (T, error)) (T, aws.Config, *slog.Logger) {
	log := logging.New()
	cfg, err := load(settings.FromOS())
	if err != nil {
		exit(log, "bad configuration", err)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		exit(log, "load AWS configuration", err)
	}
	return cfg, awsCfg, log
}

func exit(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
