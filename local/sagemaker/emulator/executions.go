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
	if len(in.SelectiveExecutionConfig) > 0 && string(in.SelectiveExecutionConfig) != "null" {
		// Checked against the model first; refused, not silently ignored.
		return nil, errValidation("SelectiveExecutionConfig is not supported by the emulator")
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
	version := p.latest()
	if in.PipelineVersionID != nil {
		if version = p.version(*in.PipelineVersionID); version == nil {
			return nil, errNotFound("Pipeline version %d of '%s' does not exist.", *in.PipelineVersionID, p.name)
		}
	}
	params, paramList, err := bindParameters(version.def, in.PipelineParameters)
	if err != nil {
		return nil, err
	}
	if e.runningExecutions() >= e.opts.MaxRunningExecutions {
		return nil, errLimit("The account-level service limit 'Maximum number of concurrent pipeline executions' is %d.", e.opts.MaxRunningExecutions)
	}
	now := e.now()
	id := newExecutionID()
	x := &execution{
		arn: e.executionARN(p.name, id), id: id, pipe: p, version: version,
		displayName: deref(in.PipelineExecutionDisplayName, fmt.Sprintf("execution-%d", now.UnixMilli())),
		description: deref(in.PipelineExecutionDescription, ""),
		status:      statusExecuting, created: now, modified: now,
		parallelism: p.parallelism, params: params, paramList: paramList, def: version.def,
		mlflowExperimentName: deref(in.MlflowExperimentName, ""),
		byName:               map[string]*stepRun{},
		stopCh:               make(chan struct{}),
		wake:                 make(chan struct{}, 1),
		dropStopping:         e.rng.Float64() < e.opts.Switches.DropStoppingMessage,
	}
	if in.ParallelismConfiguration != nil {
		x.parallelism = in.ParallelismConfiguration.MaxParallelExecutionSteps
	}
	e.executions[strings.ToLower(x.arn)] = x
	p.lastRun = now
	version.lastExecutionArn = x.arn
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
// definition's defaults, typed as the definition declares them, and lists
// them as ListPipelineParametersForExecution shows them: every parameter of
// the definition, in its order, with the value given or the default.
func bindParameters(def *definition, given []parameter) (map[string]any, []wireParameter, error) {
	values := map[string]any{}
	texts := map[string]string{}
	for _, p := range def.Parameters {
		if p.HasDefault {
			values[p.Name] = p.Default
			texts[p.Name] = primitiveString(p.Default)
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
			return nil, nil, errValidation("Parameter '%s' is not defined in the pipeline definition.", *g.Name)
		}
		v, err := convertParam(def.Parameters[i].Type, *g.Value)
		if err != nil {
			return nil, nil, errValidation("Parameter '%s': %v", *g.Name, err)
		}
		values[*g.Name] = v
		texts[*g.Name] = *g.Value
	}
	list := make([]wireParameter, 0, len(def.Parameters))
	for _, p := range def.Parameters {
		if _, ok := values[p.Name]; !ok {
			return nil, nil, errValidation("Parameter '%s' has no default value and was not provided.", p.Name)
		}
		list = append(list, wireParameter{Name: p.Name, Value: texts[p.Name]})
	}
	return values, list, nil
}

func (e *Emulator) describePipelineExecution(_ context.Context, in *executionArnInput) (any, error) {
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
		PipelineVersionID: x.version.id,
	}
	if x.parallelism != nil {
		out.ParallelismConfiguration = &parallelismConfiguration{MaxParallelExecutionSteps: x.parallelism}
	}
	if x.mlflowExperimentName != "" {
		out.MLflowConfig = &mlflowConfiguration{MlflowExperimentName: x.mlflowExperimentName}
	}
	return out, nil
}

// listPipelineExecutions lists a pipeline's executions. The API has no
// status filter; callers filter the summaries themselves.
func (e *Emulator) listPipelineExecutions(_ context.Context, in *listPipelineExecutionsInput) (any, error) {
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

// updatePipelineExecution changes an execution's display name, description
// and parallelism. A new parallelism applies to the steps started from now
// on; on a terminal execution there is nothing it could apply to, so it is a
// ConflictException (RetryPipelineExecution takes its own). Names and
// descriptions can be changed in any status.
func (e *Emulator) updatePipelineExecution(_ context.Context, in *updatePipelineExecutionInput) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.findExecution(*in.PipelineExecutionArn)
	if err != nil {
		return nil, err
	}
	if in.ParallelismConfiguration != nil && terminal(x.status) {
		return nil, errConflict("Pipeline execution '%s' is in status %s; its parallelism can no longer change.", x.arn, x.status)
	}
	if in.PipelineExecutionDisplayName != nil {
		x.displayName = *in.PipelineExecutionDisplayName
	}
	if in.PipelineExecutionDescription != nil {
		x.description = *in.PipelineExecutionDescription
	}
	if in.ParallelismConfiguration != nil {
		x.parallelism = in.ParallelismConfiguration.MaxParallelExecutionSteps
		select {
		case x.wake <- struct{}{}:
		default:
		}
	}
	x.modified = e.now()
	return &executionArnOutput{PipelineExecutionArn: x.arn}, nil
}

// describePipelineDefinitionForExecution returns the definition the
// execution started with, whatever UpdatePipeline did since.
func (e *Emulator) describePipelineDefinitionForExecution(_ context.Context, in *executionArnInput) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, err := e.findExecution(*in.PipelineExecutionArn)
	if err != nil {
		return nil, err
	}
	return &describePipelineDefinitionForExecutionOutput{
		PipelineDefinition: x.version.definitionDoc, CreationTime: epoch(x.version.created),
	}, nil
}

// listPipelineParametersForExecution lists the parameters the execution
// resolved at start: every parameter of its definition, defaults included,
// in definition order.
func (e *Emulator) listPipelineParametersForExecution(_ context.Context, in *listPipelineParametersForExecutionInput) (any, error) {
	e.mu.Lock()
	x, err := e.findExecution(*in.PipelineExecutionArn)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	type item struct {
		key   string
		param wireParameter
	}
	items := make([]item, 0, len(x.paramList))
	for i, p := range x.paramList {
		items = append(items, item{key: fmt.Sprintf("%06d", i), param: p})
	}
	arn := x.arn
	e.mu.Unlock()

	key := func(it item) string { return it.key }
	items, next, err := page(items, key, false, in.NextToken, filterDigest("ListPipelineParametersForExecution", arn), in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &listPipelineParametersForExecutionOutput{PipelineParameters: []wireParameter{}, NextToken: next}
	for _, it := range items {
		out.PipelineParameters = append(out.PipelineParameters, it.param)
	}
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
