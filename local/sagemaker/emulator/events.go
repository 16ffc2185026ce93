package emulator

import "time"

// The two EventBridge events SageMaker Pipelines sends (source
// aws.sagemaker). Detail members are camelCase with RFC3339 times, unlike
// the API's PascalCase and epoch numbers.
// Exported so a test outside the emulator can hold stopcoord's own
// constants to them (the emulator imports nothing of stopcoord's).
const (
	EventSource             = "aws.sagemaker"
	DetailTypeExecution     = "SageMaker Model Building Pipeline Execution Status Change"
	DetailTypeExecutionStep = "SageMaker Model Building Pipeline Execution Step Status Change"
)

// eventTime is the detail time format of the documented examples (whole
// seconds, UTC).
func eventTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// emitExecution queues the event for an execution transition; prev is ""
// for the first event (what the real service puts there is undocumented, so
// the member is left out). Caller holds e.mu, which keeps the queue in
// transition order.
func (e *Emulator) emitExecution(x *execution, prev string) {
	d := map[string]any{
		"currentPipelineExecutionStatus": x.status,
		"executionStartTime":             eventTime(x.created),
		"pipelineExecutionDisplayName":   x.displayName,
		"pipelineArn":                    x.pipe.arn,
		"pipelineExecutionArn":           x.arn,
	}
	if prev != "" {
		d["previousPipelineExecutionStatus"] = prev
	}
	if terminal(x.status) {
		d["executionEndTime"] = eventTime(x.ended)
	}
	if x.description != "" {
		d["pipelineExecutionDescription"] = x.description
	}
	e.events.enqueue(DetailTypeExecution, x.modified, []string{x.pipe.arn, x.arn}, d)
}

// emitStep queues the event for a step transition. Caller holds e.mu.
func (e *Emulator) emitStep(x *execution, s *stepRun, prev string) {
	d := map[string]any{
		"currentStepStatus":    s.status,
		"stepName":             s.def.Name,
		"stepType":             s.def.Type,
		"stepStartTime":        eventTime(s.start),
		"metadata":             eventMetadata(s),
		"pipelineArn":          x.pipe.arn,
		"pipelineExecutionArn": x.arn,
	}
	if prev != "" {
		d["previousStepStatus"] = prev
	}
	if terminal(s.status) {
		d["stepEndTime"] = eventTime(s.end)
	}
	if s.status == statusFailed {
		d["failureReason"] = s.failureReason
	}
	e.events.enqueue(DetailTypeExecutionStep, x.modified, []string{x.pipe.arn, x.arn}, d)
}

// eventMetadata mirrors the step's API Metadata in camelCase, e.g.
// {"callback": {"callbackToken": ..., "sqsQueueUrl": ...}}. Before anything
// is known it is {}.
func eventMetadata(s *stepRun) map[string]any {
	m := wireMetadata(s)
	out := map[string]any{}
	if m == nil {
		return out
	}
	arn := func(key string, a *arnMetadata) {
		if a != nil {
			out[key] = map[string]any{"arn": a.Arn}
		}
	}
	arn("trainingJob", m.TrainingJob)
	arn("processingJob", m.ProcessingJob)
	arn("transformJob", m.TransformJob)
	arn("tuningJob", m.TuningJob)
	if c := m.Callback; c != nil {
		cb := map[string]any{"callbackToken": c.CallbackToken, "sqsQueueUrl": c.SqsQueueURL}
		if len(c.OutputParameters) > 0 {
			cb["outputParameters"] = eventOutputs(c.OutputParameters)
		}
		out["callback"] = cb
	}
	if l := m.Lambda; l != nil {
		lm := map[string]any{"arn": l.Arn}
		if len(l.OutputParameters) > 0 {
			lm["outputParameters"] = eventOutputs(l.OutputParameters)
		}
		out["lambda"] = lm
	}
	if c := m.Condition; c != nil {
		out["condition"] = map[string]any{"outcome": c.Outcome}
	}
	if f := m.Fail; f != nil {
		out["fail"] = map[string]any{"errorMessage": f.ErrorMessage}
	}
	return out
}

func eventOutputs(ps []wireOutputParameter) []map[string]string {
	out := make([]map[string]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, map[string]string{"name": p.Name, "value": p.Value})
	}
	return out
}
