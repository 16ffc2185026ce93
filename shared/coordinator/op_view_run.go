package coordinator

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Parameter is one resolved parameter of an execution: given at start, or
// the definition's default.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PipelineVersion is the version of the pipeline an execution ran.
type PipelineVersion struct {
	ID          int64  `json:"id"`
	DisplayName string `json:"displayName,omitempty"`
	Description string `json:"description,omitempty"`
}

// Attempt is one run of an execution: the first, and one more per
// RetryPipelineExecution, each from Executing to a terminal status.
type Attempt struct {
	Number     int                      `json:"number"`
	Status     pipeline.ExecutionStatus `json:"status"` // terminal once the attempt ended
	StartedAt  *time.Time               `json:"startedAt,omitempty"`
	StoppingAt *time.Time               `json:"stoppingAt,omitempty"`
	EndedAt    *time.Time               `json:"endedAt,omitempty"`
}

// MaxAttemptsShown bounds the attempts a view lists: the latest ones, with
// their numbers, so a much-retried execution keeps a small answer.
const MaxAttemptsShown = 50

// ViewExecutionRun is ViewExecution plus what the execution ran with: its
// parameters (defaults included) and its pipeline version. It costs two or
// three SageMaker calls more than ViewExecution, so the stop waiter's
// polls (GET /stops/{id}) use ViewExecution and only the execution routes
// use this.
func (s *Service) ViewExecutionRun(ctx context.Context, rawARN string) (ExecutionView, error) {
	v, err := s.ViewExecution(ctx, rawARN)
	if err != nil {
		return ExecutionView{}, err
	}
	arn, err := pipeline.ParseExecutionARN(rawARN)
	if err != nil {
		return ExecutionView{}, err
	}
	if v.PipelineVersion == nil { // a terminal execution: the view did not ask SageMaker
		desc, err := s.sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
		if err != nil {
			return ExecutionView{}, fromSageMaker("describe execution", arn.String(), err)
		}
		v.PipelineVersion = versionOf(desc)
	}
	if v.Parameters, err = parametersOf(ctx, s.sm, arn); err != nil {
		return ExecutionView{}, err
	}
	if v.PipelineVersion != nil {
		out, err := s.sm.DescribePipeline(ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String(arn.Pipeline), PipelineVersionId: aws.Int64(v.PipelineVersion.ID)})
		var gone *smtypes.ResourceNotFound
		switch {
		case errors.As(err, &gone):
			// The pipeline or the version is gone; the id still stands.
		case err != nil:
			return ExecutionView{}, fromSageMaker("describe the pipeline version of", arn.String(), err)
		default:
			v.PipelineVersion.DisplayName = aws.ToString(out.PipelineVersionDisplayName)
			v.PipelineVersion.Description = aws.ToString(out.PipelineVersionDescription)
		}
	}
	return v, nil
}

func versionOf(desc *sagemaker.DescribePipelineExecutionOutput) *PipelineVersion {
	if desc == nil || desc.PipelineVersionId == nil {
		return nil
	}
	return &PipelineVersion{ID: *desc.PipelineVersionId}
}

// parametersOf lists the execution's resolved parameters, every page
// (SageMaker bounds a pipeline's parameters, so the list is small).
func parametersOf(ctx context.Context, client sagemaker.ListPipelineParametersForExecutionAPIClient, arn pipeline.ExecutionARN) ([]Parameter, error) {
	out := []Parameter{}
	p := sagemaker.NewListPipelineParametersForExecutionPaginator(client, &sagemaker.ListPipelineParametersForExecutionInput{PipelineExecutionArn: aws.String(arn.String())})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fromSageMaker("list the parameters of", arn.String(), err)
		}
		for _, prm := range page.PipelineParameters {
			out = append(out, Parameter{Name: aws.ToString(prm.Name), Value: aws.ToString(prm.Value)})
		}
	}
	return out, nil
}

// attemptsOf reads an execution's attempts from the statuses the ledger
// recorded (pipeline.Execution's Transitions): an attempt starts with the
// first running status after the last one ended, and ends with a terminal
// status. A record from before transitions were kept gives one attempt
// from its current state.
func attemptsOf(e *pipeline.Execution) []Attempt {
	out := []Attempt{}
	if e == nil {
		return out
	}
	type transition struct {
		at     time.Time
		status pipeline.ExecutionStatus
	}
	var ts []transition
	for _, raw := range e.Transitions {
		ms, status, ok := strings.Cut(raw, "#")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil {
			continue
		}
		ts = append(ts, transition{time.UnixMilli(n).UTC(), pipeline.ExecutionStatus(status)})
	}
	// The times come at two precisions: status events carry whole seconds,
	// while Service.Stop records Stopping on stopcoord's clock and the
	// sweeper SageMaker's times, in milliseconds. So an end the event
	// reports as :40 can read earlier than the Stopping recorded at :40.742
	// of the same attempt. Within a second, order by how far along the
	// status is: an attempt only moves forward, and a retry's Executing is
	// never in the second of the end it reopens (the ledger applies it
	// only when its event is newer than that end).
	sort.SliceStable(ts, func(i, j int) bool {
		si, sj := ts[i].at.Truncate(time.Second), ts[j].at.Truncate(time.Second)
		if !si.Equal(sj) {
			return si.Before(sj)
		}
		if ri, rj := ts[i].status.Rank(), ts[j].status.Rank(); ri != rj {
			return ri < rj
		}
		return ts[i].at.Before(ts[j].at)
	})
	if len(ts) == 0 {
		return append(out, Attempt{Number: 1, Status: e.Status, StartedAt: timePtr(e.StartedAt), StoppingAt: timePtr(e.StoppingSince), EndedAt: timePtr(e.EndedAt)})
	}
	var cur *Attempt
	for _, t := range ts {
		if cur != nil && cur.Status.Terminal() && t.status != pipeline.ExecutionExecuting {
			// Only a retry's Executing starts an attempt (the ledger reopens
			// an ended record with nothing else). A Stopping after the end
			// is the ended attempt's own, recorded on stopcoord's clock a
			// moment after SageMaker's end, in a later second.
			if t.status == pipeline.ExecutionStopping && cur.StoppingAt == nil {
				cur.StoppingAt = timePtr(t.at)
			}
			continue
		}
		if cur == nil || cur.Status.Terminal() {
			out = append(out, Attempt{Number: len(out) + 1, Status: t.status})
			cur = &out[len(out)-1]
			if !t.status.Terminal() {
				cur.StartedAt = timePtr(t.at)
			}
		}
		cur.Status = t.status
		switch {
		case t.status == pipeline.ExecutionStopping && cur.StoppingAt == nil:
			cur.StoppingAt = timePtr(t.at)
		case t.status.Terminal():
			cur.EndedAt = timePtr(t.at)
		}
	}
	// The first attempt began when the execution did, which the events
	// give apart from their own time.
	if first := &out[0]; !e.StartedAt.IsZero() && (first.StartedAt == nil || e.StartedAt.Before(*first.StartedAt)) {
		first.StartedAt = timePtr(e.StartedAt)
	}
	// An end in whole seconds can read before the Stopping of the same
	// second, recorded in milliseconds; the end was no earlier than that
	// Stopping, so the attempt's timeline never runs backwards.
	for i := range out {
		a := &out[i]
		if a.EndedAt != nil && a.StoppingAt != nil && a.EndedAt.Before(*a.StoppingAt) && a.EndedAt.Equal(a.StoppingAt.Truncate(time.Second)) {
			a.EndedAt = timePtr(*a.StoppingAt)
		}
	}
	if len(out) > MaxAttemptsShown {
		out = out[len(out)-MaxAttemptsShown:]
	}
	return out
}
