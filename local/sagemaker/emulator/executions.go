package emulator

import (
	"context"
	"fmt"
	"strings"
)

// findExecution looks an execution up by ARN (case-insensitively: the
// pipeline segment is lower-cased in every ARN the emulator issues). Caller
// holds e.mu.
func (e *Emulator) findExecution(arn string) (*execution, error) {
	x, ok := e.executions[strings.ToLower(arn)]
	if !ok {
		return nil, errNotFound("Pipeline execution '%s' does not exist.", arn)
	}
	return x, nil
}

func (e *Emulator) startPipelineExecution(_ context.Context, in *startPipelineExecutionInput) (any, error) {
	var v violations
	if v.required("pipelineName", in.PipelineName != nil) {
		v.str("pipelineName", in.PipelineName, 1, 2048, patPipelineNameOrArn)
	}
	v.str("pipelineExecutionDisplayName", in.PipelineExecutionDisplayName, 1, 82, patExecutionName)
	v.str("pipelineExecutionDescription", in.PipelineExecutionDescription, 0, 3072, "")
	v.clientRequestToken("clientRequestToken", in.ClientRequestToken, true)
	v.listLen("pipelineParameters", len(in.PipelineParameters), 200)
	for _, p := range in.PipelineParameters {
		if v.required("pipelineParameters.member.name", p.Name != nil) {
			v.str("pipelineParameters.member.name", p.Name, 1, 256, patParameterName)
		}
		if v.required("pipelineParameters.member.value", p.Value != nil) {
			v.str("pipelineParameters.member.value", p.Value, 0, 1024, "")
		}
	}
	if pc := in.ParallelismConfiguration; pc != nil && v.required("parallelismConfiguration.maxParallelExecutionSteps", pc.MaxParallelExecutionSteps != nil) {
		v.intRange("parallelismConfiguration.maxParallelExecutionSteps", pc.MaxParallelExecutionSteps, 1, 0)
	}
	v.intRange("pipelineVersionId", in.PipelineVersionID, 1, 0)
	if err := v.err(); err != nil {
		return nil, err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if out, ok, err := e.replay("StartPipelineExecution", in.ClientRequestToken, in); ok || err != nil {
		return out, err
	}
	if e.closed {
		return nil, errUnavailable()
	}
	p, err := e.findPipeline(*in.PipelineName)
	if err != nil {
		return nil, err
	}
	params, err := bindParameters(p.def, in.PipelineParameters)
	if err != nil {
		return nil, err
	}
	if e.runningExecutions() >= e.opts.MaxRunningExecutions {
		return nil, errLimit("The account-level service limit 'Maximum number of concurrent pipeline executions' is %d.", e.opts.MaxRunningExecutions)
	}
	now := e.now()
	id := newExecutionID()
	x := &execution{
		arn: e.executionARN(p.name, id), id: id, pipe: p,
		displayName: deref(in.PipelineExecutionDisplayName, fmt.Sprintf("execution-%d", now.UnixMilli())),
		description: deref(in.PipelineExecutionDescription, ""),
		status:      statusExecuting, created: now, modified: now,
		parallelism: p.parallelism, params: params, def: p.def,
		byName:       map[string]*stepRun{},
		stopCh:       make(chan struct{}),
		dropStopping: e.rng.Float64() < e.opts.Switches.DropStoppingMessage,
		done:         make(chan struct{}),
	}
	if in.ParallelismConfiguration != nil {
		x.parallelism = in.ParallelismConfiguration.MaxParallelExecutionSteps
	}
	e.executions[strings.ToLower(x.arn)] = x
	p.lastRun = now
	e.emitExecution(x, "")
	if !e.goEngine(func() { e.run(x) }) {
		return nil, errUnavailable()
	}
	out := &executionArnOutput{PipelineExecutionArn: x.arn}
	e.remember("StartPipelineExecution", in.ClientRequestToken, in, out)
	e.log.Info("execution started", logAttrs(x)...)
	return out, nil
}

// runningExecutions counts non-terminal executions. Caller holds e.mu.
func (e *Emulator) runningExecutions() int {
	n := 0
	for _, x := range e.executions {
		if !terminal(x.status) {
			n++
		}
	}
	return n
}

// bindParameters merges the start-time values (strings on the API) with the
// definition's defaults, typed as the definition declares them.
func bindParameters(def *definition, given []parameter) (map[string]any, error) {
	values := map[string]any{}
	for _, p := range def.Parameters {
		if p.HasDefault {
			values[p.Name] = p.Default
		}
	}
	for _, g := range given {
		i := -1
		for j, p := range def.Parameters {
			if p.Name == *g.Name {
				i = j
			}
		}
		if i < 0 {
			return nil, errValidation("Parameter '%s' is not defined in the pipeline definition.", *g.Name)
		}
		v, err := convertParam(def.Parameters[i].Type, *g.Value)
		if err != nil {
			return nil, errValidation("Parameter '%s': %v", *g.Name, err)
		}
		values[*g.Name] = v
	}
	for _, p := range def.Parameters {
		if _, ok := values[p.Name]; !ok {
			return nil, errValidation("Parameter '%s' has no default value and was not provided.", p.Name)
		}
	}
	return values, nil
}

func (e *Emulator) describePipelineExecution(_ context.Context, in *executionArnInput) (any, error) {
	var v violations
	v.executionArn("pipelineExecutionArn", in.PipelineExecutionArn)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.findExecution(*in.PipelineExecutionArn)
	if err != nil {
		return nil, err
	}
	out := &describePipelineExecutionOutput{
		PipelineArn: x.pipe.arn, PipelineExecutionArn: x.arn,
		PipelineExecutionDisplayName: x.displayName, PipelineExecutionStatus: x.status,
		PipelineExecutionDescription: x.description, FailureReason: x.failureReason,
		PipelineExperimentConfig: &experimentConfig{ExperimentName: strings.ToLower(x.pipe.name), TrialName: x.id},
		CreationTime:             epoch(x.created), LastModifiedTime: epoch(x.modified),
		PipelineVersionID: 1,
	}
	if x.parallelism != nil {
		out.ParallelismConfiguration = &parallelismConfiguration{MaxParallelExecutionSteps: x.parallelism}
	}
	return out, nil
}

// listPipelineExecutions lists a pipeline's executions. The API has no
// status filter; callers filter the summaries themselves.
func (e *Emulator) listPipelineExecutions(_ context.Context, in *listPipelineExecutionsInput) (any, error) {
	var v violations
	if v.required("pipelineName", in.PipelineName != nil) {
		v.str("pipelineName", in.PipelineName, 1, 2048, patPipelineNameOrArn)
	}
	v.enum("sortBy", in.SortBy, "CreationTime", "PipelineExecutionArn")
	v.sortOrder(in.SortOrder)
	v.pagination(in.NextToken, in.MaxResults)
	if err := v.err(); err != nil {
		return nil, err
	}
	type item struct {
		key     string
		summary pipelineExecutionSummary
	}
	byArn := in.SortBy != nil && *in.SortBy == "PipelineExecutionArn"
	desc := descending(in.SortOrder)

	e.mu.Lock()
	p, err := e.findPipeline(*in.PipelineName)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	var items []item
	for _, x := range e.executions {
		if x.pipe != p || !createdBetween(x.created, in.CreatedAfter, in.CreatedBefore) {
			continue
		}
		k := timeKey(x.created, x.arn)
		if byArn {
			k = x.arn
		}
		items = append(items, item{key: k, summary: pipelineExecutionSummary{
			PipelineExecutionArn: x.arn, StartTime: epoch(x.created), PipelineExecutionStatus: x.status,
			PipelineExecutionDescription: x.description, PipelineExecutionDisplayName: x.displayName,
			PipelineExecutionFailureReason: x.failureReason,
		}})
	}
	e.mu.Unlock()

	key := func(it item) string { return it.key }
	sortItems(items, key, desc)
	filter := filterDigest("ListPipelineExecutions", p.arn, in.CreatedAfter, in.CreatedBefore, byArn, desc)
	items, next, err := page(items, key, desc, in.NextToken, filter, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &listPipelineExecutionsOutput{PipelineExecutionSummaries: []pipelineExecutionSummary{}, NextToken: next}
	for _, it := range items {
		out.PipelineExecutionSummaries = append(out.PipelineExecutionSummaries, it.summary)
	}
	return out, nil
}

// stopPipelineExecution only starts a stop: the execution is Stopping at
// once and becomes Stopped (or Failed) when nothing blocks any more. A second
// stop of a Stopping execution succeeds again; a terminal execution cannot
// be stopped.
func (e *Emulator) stopPipelineExecution(_ context.Context, in *stopPipelineExecutionInput) (any, error) {
	var v violations
	v.executionArn("pipelineExecutionArn", in.PipelineExecutionArn)
	v.clientRequestToken("clientRequestToken", in.ClientRequestToken, true)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if out, ok, err := e.replay("StopPipelineExecution", in.ClientRequestToken, in); ok || err != nil {
		return out, err
	}
	x, err := e.findExecution(*in.PipelineExecutionArn)
	if err != nil {
		return nil, err
	}
	switch x.status {
	case statusExecuting:
		e.setExecutionStatus(x, statusStopping, "")
		close(x.stopCh)
		e.log.Info("execution stopping", logAttrs(x)...)
	case statusStopping:
	default:
		return nil, errConflict("Pipeline execution '%s' is in status %s and cannot be stopped.", x.arn, x.status)
	}
	out := &executionArnOutput{PipelineExecutionArn: x.arn}
	e.remember("StopPipelineExecution", in.ClientRequestToken, in, out)
	return out, nil
}

// setExecutionStatus records a transition and emits its event. Caller holds
// e.mu.
func (e *Emulator) setExecutionStatus(x *execution, status, failureReason string) {
	prev := x.status
	now := e.now()
	x.status, x.modified = status, now
	if terminal(status) {
		x.ended = now
		x.failureReason = failureReason
	}
	e.emitExecution(x, prev)
}

// setStepStatus records a step transition and emits its event. Caller holds
// e.mu.
func (e *Emulator) setStepStatus(x *execution, s *stepRun, status, failureReason string) {
	prev := s.status
	now := e.now()
	s.status = status
	if terminal(status) {
		s.end = now
	}
	if status == statusFailed {
		s.failureReason = truncate(failureReason, 1024)
	}
	x.modified = now
	e.emitStep(x, s, prev)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// logAttrs are the stable keys for an execution in log lines.
func logAttrs(x *execution) []any {
	return []any{"executionArn", x.arn}
}
