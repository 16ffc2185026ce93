package metrics

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// EMF writes each recorded data point as one line in CloudWatch's embedded
// metric format.
type EMF struct {
	mu         sync.Mutex // one line per Write, never interleaved
	w          io.Writer
	deployment string
	now        func() time.Time
}

// NewEMF writes EMF lines to w (the function's stdout) with the given
// Deployment dimension.
func NewEMF(w io.Writer, deployment string) *EMF {
	return &EMF{w: w, deployment: deployment, now: time.Now}
}

// directive is one CloudWatchMetrics entry: metrics and the dimension sets
// they are published under.
type directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []definition `json:"Metrics"`
}

type definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// dims lists the dimension sets of a metric: the deployment alone (what
// the alarms read) and, when the metric has them, the deployment with its
// breakdown (what the dashboard draws).
func dims(breakdown ...string) [][]string {
	sets := [][]string{{DimDeployment}}
	if len(breakdown) > 0 {
		sets = append(sets, append([]string{DimDeployment}, breakdown...))
	}
	return sets
}

func (e *EMF) write(ctx context.Context, directives []directive, values map[string]any) {
	doc := make(map[string]any, len(values)+3)
	for k, v := range values {
		doc[k] = v
	}
	doc[DimDeployment] = e.deployment
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		doc["requestId"] = lc.AwsRequestID // ties the line to the invocation's logs
	}
	for i := range directives {
		directives[i].Namespace = Namespace
	}
	doc["_aws"] = map[string]any{"Timestamp": e.now().UnixMilli(), "CloudWatchMetrics": directives}
	line, err := json.Marshal(doc)
	if err != nil {
		return // values are numbers and strings; nothing to report
	}
	line = append(line, '\n')
	e.mu.Lock()
	defer e.mu.Unlock()
	_, _ = e.w.Write(line) // a lost data point must never fail the work it measures
}

func count(name string) definition   { return definition{Name: name, Unit: "Count"} }
func seconds(name string) definition { return definition{Name: name, Unit: "Seconds"} }

// StopRequested implements Recorder.
func (e *EMF) StopRequested(ctx context.Context, trigger string, n int) {
	if n <= 0 {
		return
	}
	e.write(ctx, []directive{{Dimensions: dims(DimTrigger), Metrics: []definition{count(StopsRequested)}}},
		map[string]any{DimTrigger: trigger, StopsRequested: n})
}

// StopClosed implements Recorder.
func (e *EMF) StopClosed(ctx context.Context, trigger, outcome string, latency time.Duration) {
	e.write(ctx, []directive{
		{Dimensions: dims(DimTrigger, DimOutcome), Metrics: []definition{count(StopsClosed)}},
		{Dimensions: dims(DimTrigger), Metrics: []definition{{Name: StopLatency, Unit: "Milliseconds"}}},
	}, map[string]any{DimTrigger: trigger, DimOutcome: outcome, StopsClosed: 1, StopLatency: latency.Milliseconds()})
}

// OpenStops implements Recorder.
func (e *EMF) OpenStops(ctx context.Context, open int, oldest time.Duration) {
	e.write(ctx, []directive{{Dimensions: dims(), Metrics: []definition{count(OpenStops), seconds(OldestOpenStopAge)}}},
		map[string]any{OpenStops: open, OldestOpenStopAge: int64(oldest.Seconds())})
}

// OpenCallbacks implements Recorder.
func (e *EMF) OpenCallbacks(ctx context.Context, open int, oldest time.Duration) {
	e.write(ctx, []directive{{Dimensions: dims(), Metrics: []definition{count(OpenCallbacks), seconds(OldestOpenCallbackAge)}}},
		map[string]any{OpenCallbacks: open, OldestOpenCallbackAge: int64(oldest.Seconds())})
}

// Cleanup implements Recorder. Its rollup keeps Result, so one alarm can
// watch abandoned cleanups of every kind.
func (e *EMF) Cleanup(ctx context.Context, kind, result string) {
	e.write(ctx, []directive{{Dimensions: [][]string{{DimDeployment, DimResult}, {DimDeployment, DimKind, DimResult}}, Metrics: []definition{count(Cleanups)}}},
		map[string]any{DimKind: kind, DimResult: result, Cleanups: 1})
}

// TokensForced implements Recorder.
func (e *EMF) TokensForced(ctx context.Context, n int) {
	if n <= 0 {
		return
	}
	e.write(ctx, []directive{{Dimensions: dims(), Metrics: []definition{count(TokensForced)}}}, map[string]any{TokensForced: n})
}

// SageMakerThrottled implements Recorder.
func (e *EMF) SageMakerThrottled(ctx context.Context, operation string) {
	e.write(ctx, []directive{{Dimensions: dims(DimOperation), Metrics: []definition{count(SageMakerThrottles)}}},
		map[string]any{DimOperation: operation, SageMakerThrottles: 1})
}
