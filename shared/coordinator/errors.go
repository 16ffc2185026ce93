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

// refusedAnswer reports whether SageMaker refused a Send* as one it does
// not wait for: the step is not waiting (Conflict) or the token is unknown
// (NotFound). Either may also mean something else, so the token path
// checks the step before it believes the token answered.
func refusedAnswer(err error) bool {
	var notFound *types.ResourceNotFound
	var conflict *types.ConflictException
	return errors.As(err, &notFound) || errors.As(err, &conflict)
}

// FinalStopError reports whether a stop's error is final: the execution ended or
// does not exist, is not one stopcoord may stop, or the request itself is
// wrong. Retrying cannot change those; everything else (throttling,
// SageMaker or the ledger failing) is worth a retry. Every caller that
// decides whether to retry a stop uses this one rule.
func FinalStopError(err error) bool {
	switch pipeline.Code(err) {
	case pipeline.EConflict, pipeline.ENotFound, pipeline.EUnauthorized, pipeline.EInvalid:
		return true
	}
	return false
}
