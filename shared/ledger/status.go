package ledger

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// The order rule shared by executions and steps, as a condition: the new
// status applies when nothing is recorded, when it is further along
// (higher rank), or when it is the same non-terminal status reported by a
// newer event (which may carry more detail). A terminal status is final
// until a retry (RetryPipelineExecution) moves it back to running: a
// running status (reopens) whose event is newer than the terminal one
// applies too. Anything else is a duplicate, stale or terminal, and
// changes nothing.
func orderCondition(status string, rank int, at time.Time, reopens bool) expression.ConditionBuilder {
	c := expression.AttributeNotExists(expression.Name("statusRank")).
		Or(expression.Name("statusRank").LessThan(expression.Value(rank))).
		Or(expression.And(
			expression.Name("status").Equal(expression.Value(status)),
			expression.Name("statusAt").LessThan(expression.Value(millis(at))),
			expression.Name("statusRank").LessThan(expression.Value(pipeline.TerminalRank)),
		))
	if reopens {
		c = c.Or(expression.And(
			expression.Name("statusRank").Equal(expression.Value(pipeline.TerminalRank)),
			expression.Name("statusAt").LessThan(expression.Value(millis(at))),
		))
	}
	return c
}

// rejected classifies a failed order condition from the recorded item.
func rejected(recordedStatus string, recordedRank int, recordedAt time.Time, status string, at time.Time) error {
	switch {
	case recordedStatus == status && recordedAt.Equal(at):
		return pipeline.ErrDuplicate
	case recordedRank == pipeline.TerminalRank:
		return pipeline.ErrTerminal
	default:
		return pipeline.ErrStale
	}
}

// RecordExecutionStatus records an execution status order-safely. It returns
// the record as it now stands; with ErrDuplicate, ErrStale or ErrTerminal
// (nothing written) it returns the record as it was.
func (l *Ledger) RecordExecutionStatus(ctx context.Context, c pipeline.ExecutionChange) (pipeline.Execution, error) {
	arn := c.ARN.String()
	if _, err := pipeline.ParseExecutionStatus(string(c.Status)); err != nil {
		return pipeline.Execution{}, wrap("record execution status for", arn, err)
	}
	at := c.At.UTC()
	upd := expression.
		Set(expression.Name("executionArn"), expression.Value(arn)).
		Set(expression.Name("pipelineName"), expression.Value(c.ARN.Pipeline)).
		Set(expression.Name("pipelineArn"), expression.Value(c.ARN.PipelineARN())).
		Set(expression.Name("status"), expression.Value(string(c.Status))).
		Set(expression.Name("statusRank"), expression.Value(c.Status.Rank())).
		Set(expression.Name("statusAt"), expression.Value(millis(at))).
		Set(expression.Name("updatedAt"), expression.Value(millis(l.now())))
	if !c.StartedAt.IsZero() {
		upd = upd.Set(expression.Name("startedAt"), expression.Value(millis(c.StartedAt)))
	}
	if !c.EndedAt.IsZero() {
		upd = upd.Set(expression.Name("endedAt"), expression.Value(millis(c.EndedAt)))
	}
	if c.DisplayName != "" {
		upd = upd.Set(expression.Name("displayName"), expression.Value(c.DisplayName))
	}
	if c.FailureReason != "" {
		upd = upd.Set(expression.Name("failureReason"), expression.Value(c.FailureReason))
	}
	upd = recordTransition(upd, c.Status, at)
	switch {
	case c.Status == pipeline.ExecutionStopping:
		// Into the sparse Stopping index, keeping the first time it got there.
		upd = upd.Set(expression.Name(StoppingShard), expression.Value(stoppingShardValue)).
			Set(expression.Name(StoppingSince), expression.IfNotExists(expression.Name(StoppingSince), expression.Value(millis(at))))
	default:
		upd = upd.Remove(expression.Name(StoppingShard)).Remove(expression.Name(StoppingSince))
	}
	if c.Status.Terminal() {
		upd = upd.Set(expression.Name(TTLAttribute), expression.Value(l.expiry(at))).
			Remove(expression.Name(ActiveShard)).Remove(expression.Name(ActiveSince))
	} else {
		// Running again after a retry: the record must not expire, and the
		// ended time belongs to the attempt before.
		upd = upd.Remove(expression.Name(TTLAttribute))
		if c.EndedAt.IsZero() {
			upd = upd.Remove(expression.Name("endedAt"))
		}
		// Into the sparse active index, by start time when the event gives
		// it, keeping the first value.
		since := at
		if !c.StartedAt.IsZero() {
			since = c.StartedAt
		}
		upd = upd.Set(expression.Name(ActiveShard), expression.Value(activeShardValue)).
			Set(expression.Name(ActiveSince), expression.IfNotExists(expression.Name(ActiveSince), expression.Value(millis(since))))
	}
	out, err := l.update(ctx, key(arn, skExecution), upd, ptr(orderCondition(string(c.Status), c.Status.Rank(), at, c.Status == pipeline.ExecutionExecuting)))
	if old, failed := conditionFailed(err); failed {
		var rec pipeline.Execution
		if err := unmarshal(old, &rec); err != nil {
			return pipeline.Execution{}, wrap("decode execution", arn, err)
		}
		return rec, rejected(string(rec.Status), rec.Status.Rank(), rec.StatusAt, string(c.Status), at)
	}
	if err != nil {
		return pipeline.Execution{}, wrap("record execution status for", arn, err)
	}
	var rec pipeline.Execution
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Execution{}, wrap("decode execution", arn, err)
	}
	return rec, nil
}

// RecordStepStatus records a step status order-safely, by the same rule as
// RecordExecutionStatus.
func (l *Ledger) RecordStepStatus(ctx context.Context, c pipeline.StepChange) (pipeline.Step, error) {
	arn := c.ARN.String()
	subject := arn + " step " + c.StepName
	if _, err := pipeline.ParseStepStatus(string(c.Status)); err != nil {
		return pipeline.Step{}, wrap("record step status for", subject, err)
	}
	if c.StepName == "" {
		return pipeline.Step{}, wrap("record step status for", arn, pipeline.Errorf(pipeline.EInvalid, "step name is empty"))
	}
	at := c.At.UTC()
	upd := expression.
		Set(expression.Name("executionArn"), expression.Value(arn)).
		Set(expression.Name("stepName"), expression.Value(c.StepName)).
		Set(expression.Name("status"), expression.Value(string(c.Status))).
		Set(expression.Name("statusRank"), expression.Value(c.Status.Rank())).
		Set(expression.Name("statusAt"), expression.Value(millis(at))).
		Set(expression.Name("updatedAt"), expression.Value(millis(l.now())))
	optional := []struct {
		name string
		set  bool
		v    any
	}{
		{"kind", c.Kind != "", string(c.Kind)},
		{"startedAt", !c.StartedAt.IsZero(), millis(c.StartedAt)},
		{"endedAt", !c.EndedAt.IsZero(), millis(c.EndedAt)},
		{"failureReason", c.FailureReason != "", c.FailureReason},
		{"callbackToken", c.CallbackToken != "", c.CallbackToken},
		{"functionArn", c.FunctionARN != "", c.FunctionARN},
		{"jobArn", c.JobARN != "", c.JobARN},
		{"lambdaTimeoutNs", c.LambdaTimeout > 0, int64(c.LambdaTimeout)},
		{"metadata", len(c.Metadata) > 0, c.Metadata},
		{TTLAttribute, c.Status.Terminal(), l.expiry(at)},
	}
	for _, o := range optional {
		if o.set {
			upd = upd.Set(expression.Name(o.name), expression.Value(o.v))
		}
	}
	reopens := c.Status == pipeline.StepStarting || c.Status == pipeline.StepExecuting
	out, err := l.update(ctx, key(arn, skStepPrefix+c.StepName), upd, ptr(orderCondition(string(c.Status), c.Status.Rank(), at, reopens)))
	if old, failed := conditionFailed(err); failed {
		var rec pipeline.Step
		if err := unmarshal(old, &rec); err != nil {
			return pipeline.Step{}, wrap("decode step", subject, err)
		}
		return rec, rejected(string(rec.Status), rec.Status.Rank(), rec.StatusAt, string(c.Status), at)
	}
	if err != nil {
		return pipeline.Step{}, wrap("record step status for", subject, err)
	}
	var rec pipeline.Step
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.Step{}, wrap("decode step", subject, err)
	}
	return rec, nil
}

// update runs one conditional UpdateItem that returns the item after the
// write, or the item before it when the condition fails.
func (l *Ledger) update(ctx context.Context, k map[string]types.AttributeValue, upd expression.UpdateBuilder, cond *expression.ConditionBuilder) (map[string]types.AttributeValue, error) {
	b := expression.NewBuilder().WithUpdate(upd)
	if cond != nil {
		b = b.WithCondition(*cond)
	}
	expr, err := b.Build()
	if err != nil {
		return nil, err
	}
	out, err := l.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           aws.String(l.table),
		Key:                                 k,
		UpdateExpression:                    expr.Update(),
		ConditionExpression:                 expr.Condition(),
		ExpressionAttributeNames:            expr.Names(),
		ExpressionAttributeValues:           expr.Values(),
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}
