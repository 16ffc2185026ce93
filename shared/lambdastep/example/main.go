// Command example is a Lambda step function that works through many small
// items and returns early, with what it finished, when its execution is
// stopped: the stop then ends as Stopped in seconds, instead of waiting
// for the step's timeout and ending as Failed. events/lambdastep holds its
// sample event.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/shared/lambdastep"
	"github.com/stopcoord/stopcoord/shared/logging"
)

// Event is the step's resolved arguments.
type Event struct {
	ExecutionARN string `json:"executionArn"` // {"Get": "Execution.PipelineExecutionArn"}
	Items        int    `json:"items"`
}

// Result becomes the step's output parameters.
type Result struct {
	Processed    int  `json:"processed"`
	StoppedEarly bool `json:"stoppedEarly"`
}

type worker struct {
	sm       lambdastep.Describer
	interval time.Duration // how often the execution is checked
	perItem  time.Duration // stands in for real work
}

func (w *worker) handle(ctx context.Context, ev Event) (Result, error) {
	if ev.ExecutionARN == "" {
		return Result{}, errors.New("the step's arguments have no executionArn")
	}
	ctx, cancel := lambdastep.Watch(ctx, w.sm, ev.ExecutionARN, w.interval)
	defer cancel()
	var res Result
	for ; res.Processed < ev.Items; res.Processed++ {
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), lambdastep.ErrStopping) {
				res.StoppedEarly = true
				slog.InfoContext(ctx, "execution is stopping; ending early", logging.KeyExecutionARN, ev.ExecutionARN, "processed", res.Processed)
				return res, nil
			}
			return res, ctx.Err()
		case <-time.After(w.perItem):
		}
	}
	return res, nil
}

func main() {
	log := logging.New()
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("load AWS configuration", logging.KeyError, err.Error())
		os.Exit(1)
	}
	w := &worker{sm: sagemaker.NewFromConfig(awsCfg), interval: lambdastep.DefaultInterval, perItem: time.Second}
	lambda.Start(w.handle)
}
