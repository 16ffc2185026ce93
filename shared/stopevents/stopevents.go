// Package stopevents publishes stopcoord's "Stop Completed" event to the
// account's default EventBridge bus when a stop request closes, so teams
// can route it to chat or tickets with a rule of their own:
//
//	{"source": ["stopcoord"], "detail-type": ["Stop Completed"]}
//
// The detail says which execution stopped, what triggered the stop, how it
// ended, how long it took and what became of each cleanup. It carries no
// callback token: tokens are never shown to readers.
package stopevents

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// The event's source and detail type, shared with infra (the IAM grant and
// its tests) and with anyone writing a rule for it.
const (
	Source                  = "stopcoord"
	DetailTypeStopCompleted = "Stop Completed"
)

// MaxCleanups bounds the cleanups one event lists, so an event stays far
// below EventBridge's 256 KB entry limit; CleanupsTruncated says when more
// were left out (the ledger and GET /stops/{id} have them all).
const MaxCleanups = 100

// StopCompleted is the detail of a Stop Completed event.
type StopCompleted struct {
	// Deployment is the stack that handled the stop, so stacks sharing an
	// account (dev, prod) can be told apart by a rule.
	Deployment   string `json:"deployment"`
	StopID       string `json:"stopId"`
	ExecutionARN string `json:"pipelineExecutionArn"`
	PipelineName string `json:"pipelineName"`
	Trigger      string `json:"trigger"` // one of the metrics.Trigger* values
	Mode         string `json:"mode"`    // graceful or force
	Reason       string `json:"reason,omitempty"`
	RequestedBy  string `json:"requestedBy,omitempty"`
	// Outcome is the execution's final status: Stopped, or Failed or
	// Succeeded when it ended otherwise before the stop took effect.
	Outcome           string          `json:"outcome"`
	RequestedAt       time.Time       `json:"requestedAt"`
	ClosedAt          time.Time       `json:"closedAt"`
	LatencyMillis     int64           `json:"latencyMs"`
	Cleanups          []CleanupResult `json:"cleanups"`
	CleanupsTruncated bool            `json:"cleanupsTruncated,omitempty"`
}

// CleanupResult is what became of cleaning one resource of a callback step.
type CleanupResult struct {
	StepName   string `json:"stepName,omitempty"`
	Kind       string `json:"kind"`       // the cleaner: lambda, sfn, glue, batch, ecs, training-job, ...
	ResourceID string `json:"resourceId"` // what it was asked to stop
	// Result is succeeded, failed, abandoned (given up: it may still be
	// running), refused (outside the cleanup scope) or skipped (a force
	// stop answered without cleaning).
	Result   string `json:"result"`
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
}

// PutEventsAPI is the EventBridge call the publisher makes; *eventbridge.Client satisfies it.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ PutEventsAPI = (*eventbridge.Client)(nil)

// Publisher puts Stop Completed events on the default bus.
type Publisher struct {
	client PutEventsAPI
}

// NewPublisher publishes through client.
func NewPublisher(client PutEventsAPI) *Publisher { return &Publisher{client: client} }

// Entry builds the PutEvents entry of a Stop Completed event: the
// execution is the event's resource and the close time its time.
func Entry(d StopCompleted) (types.PutEventsRequestEntry, error) {
	if len(d.Cleanups) > MaxCleanups {
		d.Cleanups, d.CleanupsTruncated = d.Cleanups[:MaxCleanups], true
	}
	if d.Cleanups == nil {
		d.Cleanups = []CleanupResult{} // always a list, so rules and readers need no null case
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return types.PutEventsRequestEntry{}, fmt.Errorf("encode Stop Completed of %s: %w", d.StopID, err)
	}
	e := types.PutEventsRequestEntry{
		Source:     aws.String(Source),
		DetailType: aws.String(DetailTypeStopCompleted),
		Detail:     aws.String(string(detail)),
		Resources:  []string{d.ExecutionARN},
	}
	if !d.ClosedAt.IsZero() {
		e.Time = aws.Time(d.ClosedAt)
	}
	return e, nil
}

// StopCompleted publishes one Stop Completed event. EventBridge does not
// deduplicate, so call it once per stop: where the stop's close is
// recorded by a conditional write that only one caller wins.
func (p *Publisher) StopCompleted(ctx context.Context, d StopCompleted) error {
	entry, err := Entry(d)
	if err != nil {
		return err
	}
	out, err := p.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{entry}})
	if err != nil {
		return fmt.Errorf("put Stop Completed of %s: %w", d.StopID, err)
	}
	// PutEvents succeeds as a call while refusing entries one by one.
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("put Stop Completed of %s: entry refused: %s %s", d.StopID, code, msg)
	}
	return nil
}

// FromView builds the detail of a closed stop from what the ledger holds:
// the stop request and its execution's view (tokens for the step names,
// cleanups for the results). A failed cleanup of a token answered with
// attention is "abandoned": it was given up and may still be running.
// deployment is the stack's name, trigger a metrics.Trigger* value.
func FromView(deployment, trigger string, stop pipeline.StopRequest, view pipeline.View) StopCompleted {
	d := StopCompleted{
		Deployment: deployment, StopID: stop.ID, ExecutionARN: stop.ExecutionARN, Trigger: trigger,
		Mode: string(stop.Mode), Reason: stop.Reason, RequestedBy: stop.RequestedBy, Outcome: string(stop.Outcome),
		RequestedAt: stop.CreatedAt, ClosedAt: stop.ClosedAt, LatencyMillis: stop.LatencyMillis,
	}
	if arn, err := pipeline.ParseExecutionARN(stop.ExecutionARN); err == nil {
		d.PipelineName = arn.Pipeline
	}
	if d.LatencyMillis == 0 && !stop.ClosedAt.IsZero() && stop.ClosedAt.After(stop.CreatedAt) {
		d.LatencyMillis = stop.ClosedAt.Sub(stop.CreatedAt).Milliseconds()
	}
	tokens := map[string]pipeline.Token{}
	for _, t := range view.Tokens {
		tokens[t.Token] = t
	}
	for _, c := range view.Cleanups {
		if c.ExecutionARN != stop.ExecutionARN {
			continue
		}
		t := tokens[c.Token]
		result := string(c.Status)
		if c.Status == pipeline.CleanupFailed && t.Attention {
			result = metrics.CleanupAbandoned
		}
		d.Cleanups = append(d.Cleanups, CleanupResult{
			StepName: t.StepName, Kind: c.Resource.Kind, ResourceID: c.Resource.ID,
			Result: result, Attempts: c.Attempts, Error: c.LastError,
		})
	}
	return d
}

// Observer publishes every stop the coordinator closes as a Stop Completed
// event; it satisfies coordinator.StopObserver. A failed publish is
// logged, not returned: the stop is closed either way, and the ledger and
// the metrics still tell.
type Observer struct {
	Publisher  *Publisher
	Deployment string
}

// StopClosed publishes the stop's Stop Completed event.
func (o *Observer) StopClosed(ctx context.Context, trigger string, stop pipeline.StopRequest, view pipeline.View) {
	if err := o.Publisher.StopCompleted(ctx, FromView(o.Deployment, trigger, stop, view)); err != nil {
		slog.WarnContext(ctx, "publish Stop Completed", "stopId", stop.ID, "error", err.Error())
	}
}
