package metrics

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
)

// sageMakerServiceID is the SDK's service id of SageMaker.
const sageMakerServiceID = "SageMaker"

// CountThrottles returns an SDK API option that records every SageMaker
// request attempt refused as throttled, retries included, with its
// operation. Other services' calls pass through untouched, so it can be
// added to the shared aws.Config.
func CountThrottles(rec Recorder) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		// Finalize, after the retryer: each attempt passes through.
		return s.Finalize.Add(throttleCounter{rec}, middleware.After)
	}
}

type throttleCounter struct{ rec Recorder }

func (throttleCounter) ID() string { return "stopcoordThrottleCounter" }

var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

func (m throttleCounter) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleFinalize(ctx, in)
	if err != nil && awsmiddleware.GetServiceID(ctx) == sageMakerServiceID && throttles.IsErrorThrottle(err) == aws.TrueTernary {
		m.rec.SageMakerThrottled(ctx, awsmiddleware.GetOperationName(ctx))
	}
	return out, md, err
}
