package emulator

import (
	"context"
	"strings"
)

// The engine runs one goroutine per execution (run) that starts steps as
// their dependencies succeed, and one goroutine per started step (runStep)
// that takes the step to a terminal status. Every transition happens under
// e.mu, so a stop can never race a step start: once StopPipelineExecution
// has set Stopping, run starts nothing more.

// genericFailureReason is the execution's FailureReason when a step other
// than a Fail step failed.
const genericFailureReason = "Step failure: One or multiple steps failed."

// run drives an execution to a terminal status, or returns when the
// emulator closes.
func (e *Emulator) run(x *execution) {
	ctx := e.ctx
	finished := make(chan *stepRun)
	skipped := map[string]bool{}
	running := 0
	for {
		e.mu.Lock()
		if x.status == statusExecuting && !anyFailed(x) {
			running += e.startReady(ctx, x, skipped, running, finished)
		}
		if running == 0 {
			e.finish(x)
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		select {
		case <-finished:
			running--
		case <-x.wake:
		case <-ctx.Done():
			return
		}
	}
}

// startReady starts every step whose dependencies have succeeded, within
// the parallelism limit, and returns how many it started. Caller holds e.mu.
func (e *Emulator) startReady(ctx context.Context, x *execution, skipped map[string]bool, running int, finished chan<- *stepRun) int {
	started := 0
	for changed := true; changed; {
		changed = false
		for _, d := range x.def.Steps {
			if x.byName[d.Name] != nil || skipped[d.Name] {
				continue
			}
			ready, skip := e.readiness(x, d, skipped)
			if skip {
				skipped[d.Name] = true
				changed = true
				continue
			}
			if !ready {
				continue
			}
			if x.parallelism != nil && int64(running+started) >= *x.parallelism {
				return started
			}
			s := e.newStepRun(x, d)
			if !e.goEngine(func() { e.runStep(ctx, x, s, finished) }) {
				return started
			}
			started++
			changed = true
		}
	}
	return started
}

// readiness reports whether d can start now, or will never start because
// it sits in a branch its Condition did not take (or depends on such a step).
func (e *Emulator) readiness(x *execution, d *stepDef, skipped map[string]bool) (ready, skip bool) {
	ready = true
	for _, dep := range d.DependsOn {
		if skipped[dep] {
			return false, true
		}
		s := x.byName[dep]
		if s == nil || s.status != statusSucceeded {
			ready = false
			continue
		}
		if dep == d.Parent && s.outcome != nil && *s.outcome != d.InIf {
			return false, true
		}
	}
	return ready, false
}

// newStepRun records the step as Starting. A step a retry runs again is a
// new attempt: its AttemptCount is one more, and its first event names the
// replaced attempt's final status as previousStepStatus. Caller holds e.mu.
func (e *Emulator) newStepRun(x *execution, d *stepDef) *stepRun {
	x.stepSeq++
	s := &stepRun{def: d, start: e.now(), answer: make(chan callbackAnswer, 1), attempt: 1, seq: x.stepSeq}
	if old := x.lastAttempt(d.Name); old != nil {
		s.attempt = old.attempt + 1
		s.status = old.status
		if d.Type == typeCallback && e.opts.Switches.RetryKeepsCallbackToken {
			s.token = old.token
		}
	}
	x.steps = append(x.steps, s)
	x.byName[d.Name] = s
	e.setStepStatus(x, s, statusStarting, "")
	return s
}

// snapshot is what expressions can see now. Caller holds e.mu.
func (e *Emulator) snapshot(x *execution) *resolver {
	r := &resolver{
		params: x.params,
		vars: map[string]any{
			"PipelineExecutionArn": x.arn, "PipelineExecutionId": x.id,
			"PipelineName": x.pipe.name, "PipelineArn": x.pipe.arn,
			"StartDateTime":   x.created.Format("2006-01-02T15:04:05Z"),
			"CurrentDateTime": e.now().Format("2006-01-02T15:04:05Z"),
		},
		outputs:  map[string]map[string]any{},
		outcomes: map[string]bool{},
		started:  map[string]bool{},
	}
	for _, s := range x.steps {
		r.started[s.def.Name] = true
		if s.outputValues != nil {
			r.outputs[s.def.Name] = s.outputValues
		}
		if s.outcome != nil {
			r.outcomes[s.def.Name] = *s.outcome
		}
		if s.jobARN != "" {
			name := s.jobARN[strings.LastIndexByte(s.jobARN, '/')+1:]
			switch s.def.Type {
			case typeTraining:
				r.vars["TrainingJobName"] = name
			case typeProcessing:
				r.vars["ProcessingJobName"] = name
			}
		}
	}
	return r
}

// runStep takes one step to a terminal status and tells run.
func (e *Emulator) runStep(ctx context.Context, x *execution, s *stepRun, finished chan<- *stepRun) {
	switch s.def.Type {
	case typeCallback:
		e.runCallback(ctx, x, s)
	case typeLambda:
		e.runLambda(ctx, x, s)
	case typeCondition:
		e.runCondition(x, s)
	case typeFail:
		e.runFail(x, s)
	default:
		e.runJob(ctx, x, s)
	}
	select {
	case finished <- s:
	case <-ctx.Done():
	}
}

// transition moves a step under the lock; update, if set, fills metadata in
// the same critical section so the event carries it.
func (e *Emulator) transition(x *execution, s *stepRun, status, failureReason string, update func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if update != nil {
		update()
	}
	e.setStepStatus(x, s, status, failureReason)
}

// resolveArgs resolves the step's Arguments now, so they see the outputs of
// the steps it depends on.
func (e *Emulator) resolveArgs(x *execution, s *stepRun) (any, error) {
	e.mu.Lock()
	r := e.snapshot(x)
	e.mu.Unlock()
	if s.def.Arguments == nil {
		return map[string]any{}, nil
	}
	return r.resolve(s.def.Arguments)
}

// finish sets the terminal status once nothing runs any more. Caller holds
// e.mu.
func (e *Emulator) finish(x *execution) {
	reason := ""
	for _, s := range x.steps {
		if s.status != statusFailed {
			continue
		}
		if s.def.Type == typeFail && s.failMessage != nil && *s.failMessage != "" {
			reason = *s.failMessage
			break
		}
		reason = genericFailureReason
	}
	switch {
	case reason != "":
		e.setExecutionStatus(x, statusFailed, reason)
	case x.status == statusStopping:
		e.setExecutionStatus(x, statusStopped, "")
	default:
		e.setExecutionStatus(x, statusSucceeded, "")
	}
	e.log.Info("execution finished", "executionArn", x.arn, "status", x.status, "failureReason", reason)
}

func anyFailed(x *execution) bool {
	for _, s := range x.steps {
		if s.status == statusFailed {
			return true
		}
	}
	return false
}

// typedOutputs converts output values to the types the definition declares,
// for expressions in later steps; a value that does not convert stays a
// string.
func typedOutputs(d *stepDef, outputs []wireOutputParameter) map[string]any {
	types := map[string]string{}
	for _, o := range d.Outputs {
		types[o.Name] = o.Type
	}
	m := make(map[string]any, len(outputs))
	for _, o := range outputs {
		var v any = o.Value
		if t, ok := types[o.Name]; ok && t != "String" {
			if cv, err := convertParam(t, o.Value); err == nil {
				v = cv
			}
		}
		m[o.Name] = v
	}
	return m
}
