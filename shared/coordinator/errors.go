package coordinator

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// fromSageMaker gives a SageMaker error a stable code, keeping the SDK
// error in the chain for the logs: unknown resources are not_found,
// conflicts are conflict, throttling that outlasted the SDK's retries is
// throttled, and anything else is unavailable.
func fromSageMaker(action, subject string, err error) error {
	code, msg := pipeline.EUnavailable, "SageMaker failed to "+action
	var notFound *types.ResourceNotFound
	var conflict *types.ConflictException
	var api smithy.APIError
	switch {
	case errors.As(err, &notFound):
		code, msg = pipeline.ENotFound, subject+" does not exist"
	case errors.As(err, &conflict):
		code, msg = pipeline.EConflict, "SageMaker refused to "+action+": "+conflict.ErrorMessage()
	case errors.As(err, &api) && isThrottle(api.ErrorCode()):
		code, msg = pipeline.EThrottled, "SageMaker is throttling; try again later"
	case errors.As(err, &api) && api.ErrorCode() == "ValidationException":
		code, msg = pipeline.EInvalid, "SageMaker rejected the request: "+api.ErrorMessage()
	}
	return fmt.Errorf("%s %s: %w", action, subject, errors.Join(&pipeline.Error{Code: code, Message: msg}, err))
}

func isThrottle(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded":
		return true
	}
	return false
}

// alreadyAnswered reports whether a Send* error means the token needs no
// answer any more: it was answered, or its step is gone. Retrying those
// would never succeed.
func alreadyAnswered(err error) bool {
	var notFound *types.ResourceNotFound
	var conflict *types.ConflictException
	return errors.As(err, &notFound) || errors.As(err, &conflict)
}
