package emulator

import (
	"context"
	"fmt"
	"slices"
)

// listPipelineExecutionSteps lists the steps that have started; steps that
// never started are not listed, as with the real service. Order is by start
// time, Descending (newest first) unless SortOrder says otherwise.
func (e *Emulator) listPipelineExecutionSteps(_ context.Context, in *listPipelineExecutionStepsInput) (any, error) {
	// The model leaves PipelineExecutionArn optional; without it there is
	// nothing to list, so the emulator rejects it like a missing member.
	var v violations
	if !v.required("pipelineExecutionArn", in.PipelineExecutionArn != nil) {
		return nil, v.err()
	}
	type item struct {
		key  string
		step pipelineExecutionStep
	}
	e.mu.Lock()
	x, err := e.findExecution(*in.PipelineExecutionArn)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	runs := x.steps
	if e.opts.Switches.ListEveryAttempt {
		runs = append(slices.Clone(x.history), runs...)
	}
	items := make([]item, 0, len(runs))
	for _, s := range runs {
		items = append(items, item{key: fmt.Sprintf("%06d", s.seq), step: wireStep(s)})
	}
	arn := x.arn
	e.mu.Unlock()

	desc := descending(in.SortOrder)
	key := func(it item) string { return it.key }
	sortItems(items, key, desc)
	items, next, err := page(items, key, desc, in.NextToken, filterDigest("ListPipelineExecutionSteps", arn, desc), in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &listPipelineExecutionStepsOutput{PipelineExecutionSteps: []pipelineExecutionStep{}, NextToken: next}
	for _, it := range items {
		out.PipelineExecutionSteps = append(out.PipelineExecutionSteps, it.step)
	}
	return out, nil
}

// wireStep is a step as ListPipelineExecutionSteps shows it. Caller holds
// e.mu.
func wireStep(s *stepRun) pipelineExecutionStep {
	return pipelineExecutionStep{
		StepName: s.def.Name, StepDisplayName: s.def.DisplayName, StepDescription: s.def.Description,
		StartTime: epoch(s.start), EndTime: epoch(s.end), StepStatus: s.status,
		FailureReason: s.failureReason, Metadata: wireMetadata(s), AttemptCount: s.attempt,
	}
}

func wireMetadata(s *stepRun) *stepMetadata {
	m := &stepMetadata{}
	switch s.def.Type {
	case typeCallback:
		if s.token == "" {
			return nil
		}
		m.Callback = &callbackMetadata{CallbackToken: s.token, SqsQueueURL: s.queueURL, OutputParameters: s.outputs}
	case typeLambda:
		m.Lambda = &lambdaMetadata{Arn: s.def.FunctionArn, OutputParameters: s.outputs}
	case typeCondition:
		if s.outcome == nil {
			return nil
		}
		m.Condition = &conditionMetadata{Outcome: outcomeString(*s.outcome)}
	case typeFail:
		if s.failMessage == nil {
			return nil
		}
		m.Fail = &failMetadata{ErrorMessage: *s.failMessage}
	default:
		if s.jobARN == "" {
			return nil
		}
		a := &arnMetadata{Arn: s.jobARN}
		switch s.def.Type {
		case typeTraining:
			m.TrainingJob = a
		case typeProcessing:
			m.ProcessingJob = a
		case typeTransform:
			m.TransformJob = a
		case typeTuning:
			m.TuningJob = a
		default:
			return nil // other step types: simulated, but no modelled metadata
		}
	}
	return m
}

func outcomeString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}
