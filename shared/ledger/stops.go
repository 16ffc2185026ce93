package ledger

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// CreateStop records a stop request unless one with the same execution and
// key exists. It returns the request and whether this call created it; an
// existing request is returned as it stands, in the same round trip.
func (l *Ledger) CreateStop(ctx context.Context, s pipeline.NewStop) (pipeline.StopRequest, bool, error) {
	arn := s.ARN.String()
	if s.Key == "" {
		return pipeline.StopRequest{}, false, wrap("create stop request for", arn, pipeline.Errorf(pipeline.EInvalid, "idempotency key is empty"))
	}
	at := s.At.UTC().Truncate(time.Millisecond)
	rec := pipeline.StopRequest{
		ID:           pipeline.StopID(s.ARN, s.Key),
		ExecutionARN: arn,
		Key:          s.Key,
		Mode:         s.Mode,
		Reason:       s.Reason,
		RequestedBy:  s.RequestedBy,
		Phase:        pipeline.StopRequested,
		CreatedAt:    at,
		Timeline:     []pipeline.TimelineEntry{{At: at, Event: "stop requested", Detail: string(s.Mode) + " by " + s.RequestedBy}},
	}
	// phaseRank orders the phases in condition expressions.
	rank := openStopAttributes(at)
	rank["phaseRank"] = &types.AttributeValueMemberN{Value: "1"}
	existing, err := l.createOnce(ctx, arn, skStopPrefix+rec.ID, rec, rank)
	if err != nil {
		return pipeline.StopRequest{}, false, wrap("create stop request", rec.ID, err)
	}
	if existing != nil {
		var prev pipeline.StopRequest
		if err := unmarshal(existing, &prev); err != nil {
			return pipeline.StopRequest{}, false, wrap("decode stop request", rec.ID, err)
		}
		return prev, false, nil
	}
	return rec, true, nil
}

// lookupRetries are the waits before asking the lookup index again for an
// id it does not know: the index is eventually consistent, so a stop
// created a moment ago may not be in it yet (typically within a second).
var lookupRetries = []time.Duration{50 * time.Millisecond, 150 * time.Millisecond, 400 * time.Millisecond}

// GetStop finds a stop request by id, through the lookup index. An id the
// index does not know is asked for again a few times before it is
// ErrNotFound, so a GET right after the POST finds its stop.
func (l *Ledger) GetStop(ctx context.Context, id string) (pipeline.StopRequest, error) {
	var rec pipeline.StopRequest
	err := l.lookup(ctx, skStopPrefix+id, &rec)
	for _, wait := range lookupRetries {
		if !errors.Is(err, pipeline.ErrNotFound) {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return pipeline.StopRequest{}, wrap("get stop request", id, ctx.Err())
		}
		err = l.lookup(ctx, skStopPrefix+id, &rec)
	}
	if err != nil {
		return pipeline.StopRequest{}, wrap("get stop request", id, err)
	}
	return rec, nil
}

// AdvanceStop moves a stop request forward to a phase before closed (use
// CloseStop for that), adding a timeline entry. Moving to the same or an
// earlier phase returns ErrStale and changes nothing.
func (l *Ledger) AdvanceStop(ctx context.Context, arn pipeline.ExecutionARN, id string, phase pipeline.StopPhase, at time.Time, detail string) (pipeline.StopRequest, error) {
	if phase == pipeline.StopClosed || phase.Rank() == 0 {
		return pipeline.StopRequest{}, wrap("advance stop request", id, pipeline.Errorf(pipeline.EInvalid, "cannot advance to phase %q", phase))
	}
	at = at.UTC()
	upd := l.timeline(at, "stop "+string(phase), detail).
		Set(expression.Name("phase"), expression.Value(string(phase))).
		Set(expression.Name("phaseRank"), expression.Value(phase.Rank()))
	if phase == pipeline.StopIssued {
		upd = upd.Set(expression.Name("issuedAt"), expression.Value(millis(at)))
	}
	return l.updateStop(ctx, arn, id, upd, expression.Name("phaseRank").LessThan(expression.Value(phase.Rank())))
}

// NoteStop adds an entry to a stop request's timeline (a cleanup finished,
// a token was answered) without changing its phase.
func (l *Ledger) NoteStop(ctx context.Context, arn pipeline.ExecutionARN, id string, at time.Time, event, detail string) (pipeline.StopRequest, error) {
	return l.updateStop(ctx, arn, id, l.timeline(at.UTC(), event, detail), expression.AttributeExists(expression.Name(SortKey)))
}

// StopOf reads a stop request of a known execution, strongly consistent:
// what an idempotent retry looks up before anything else.
func (l *Ledger) StopOf(ctx context.Context, arn pipeline.ExecutionARN, id string) (pipeline.StopRequest, error) {
	out, err := l.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), Key: key(arn.String(), skStopPrefix+id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return pipeline.StopRequest{}, wrap("get stop request", id, err)
	}
	if out.Item == nil {
		return pipeline.StopRequest{}, wrap("get stop request", id, pipeline.ErrNotFound)
	}
	var rec pipeline.StopRequest
	if err := unmarshal(out.Item, &rec); err != nil {
		return pipeline.StopRequest{}, wrap("decode stop request", id, err)
	}
	return rec, nil
}

// CloseStop closes a stop request once its execution is terminal, recording
// the outcome, the time stopcoord observed the end (at), SageMaker's own
// time for it beside that, and the latency from request to close. Closing
// twice returns ErrDuplicate.
func (l *Ledger) CloseStop(ctx context.Context, arn pipeline.ExecutionARN, id string, outcome pipeline.ExecutionStatus, at, sageMakerAt time.Time) (pipeline.StopRequest, error) {
	if !outcome.Terminal() {
		return pipeline.StopRequest{}, wrap("close stop request", id, pipeline.Errorf(pipeline.EInvalid, "outcome %q is not terminal", outcome))
	}
	at = at.UTC()
	detail := "execution " + string(outcome)
	if !sageMakerAt.IsZero() {
		detail += " (SageMaker's time: " + sageMakerAt.UTC().Format(time.RFC3339Nano) + ")"
	}
	upd := l.timeline(at, "stop closed", detail).
		Set(expression.Name("phase"), expression.Value(string(pipeline.StopClosed))).
		Set(expression.Name("phaseRank"), expression.Value(pipeline.StopClosed.Rank())).
		Set(expression.Name("closedAt"), expression.Value(millis(at))).
		Set(expression.Name("outcome"), expression.Value(string(outcome))).
		Set(expression.Name("latencyMs"), expression.Minus(expression.Value(millis(at)), expression.Name("createdAt"))).
		Set(expression.Name(TTLAttribute), expression.Value(l.expiry(at)))
	upd = leaveOpenStops(upd)
	if !sageMakerAt.IsZero() {
		upd = upd.Set(expression.Name("sageMakerEndedAt"), expression.Value(millis(sageMakerAt)))
	}
	rec, err := l.updateStop(ctx, arn, id, upd, expression.Name("phaseRank").LessThan(expression.Value(pipeline.StopClosed.Rank())))
	if errors.Is(err, pipeline.ErrStale) {
		return rec, pipeline.ErrDuplicate
	}
	return rec, err
}

func (l *Ledger) timeline(at time.Time, event, detail string) expression.UpdateBuilder {
	entry, _ := marshal(pipeline.TimelineEntry{At: at, Event: event, Detail: detail}) // a flat struct of strings and a time cannot fail
	tl := expression.Name("timeline")
	return expression.Set(tl, expression.ListAppend(
		expression.IfNotExists(tl, expression.Value([]any{})),
		expression.Value([]any{raw{&types.AttributeValueMemberM{Value: entry}}}),
	))
}

// updateStop applies a conditional update to an existing stop request.
// A failed condition on an existing request is ErrStale; on a missing one,
// ErrNotFound.
func (l *Ledger) updateStop(ctx context.Context, arn pipeline.ExecutionARN, id string, upd expression.UpdateBuilder, cond expression.ConditionBuilder) (pipeline.StopRequest, error) {
	cond = expression.AttributeExists(expression.Name(SortKey)).And(cond)
	out, err := l.update(ctx, key(arn.String(), skStopPrefix+id), upd, &cond)
	if old, failed := conditionFailed(err); failed {
		if old == nil {
			return pipeline.StopRequest{}, wrap("update stop request", id, pipeline.ErrNotFound)
		}
		var rec pipeline.StopRequest
		if err := unmarshal(old, &rec); err != nil {
			return pipeline.StopRequest{}, wrap("decode stop request", id, err)
		}
		return rec, pipeline.ErrStale
	}
	if err != nil {
		return pipeline.StopRequest{}, wrap("update stop request", id, err)
	}
	var rec pipeline.StopRequest
	if err := unmarshal(out, &rec); err != nil {
		return pipeline.StopRequest{}, wrap("decode stop request", id, err)
	}
	return rec, nil
}
