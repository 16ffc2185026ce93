package ledger

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TransitionsAttribute holds every status an execution's record took, as a
// string set of "<epoch ms, 13 digits>#<status>" (pipeline.Execution's
// Transitions): each Executing → terminal span
// is one attempt, and a retry (RetryPipelineExecution) starts the next.
// The set grows only when a status is applied, once per distinct (time,
// status): a few entries of about 25 bytes per attempt, so even thousands
// of retries stay far below DynamoDB's 400 KB item limit.
const TransitionsAttribute = "transitions"

// recordTransition adds the applied status to the execution's transitions
// in the same UpdateItem that applies it: a rejected (stale, duplicate or
// terminal) status is not recorded, and a redelivered event adds nothing.
func recordTransition(upd expression.UpdateBuilder, status pipeline.ExecutionStatus, at time.Time) expression.UpdateBuilder {
	entry := fmt.Sprintf("%013d#%s", millis(at), status)
	return upd.Add(expression.Name(TransitionsAttribute), expression.Value(raw{&types.AttributeValueMemberSS{Value: []string{entry}}}))
}
