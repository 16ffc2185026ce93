package emulator

import "context"

// jobKinds maps the step types whose jobs the emulator names to the ARN
// resource type. Other types (Model, RegisterModel, EMR, ...) run the same
// simulation without job metadata.
var jobKinds = map[string]string{
	typeTraining:   "training-job",
	typeProcessing: "processing-job",
	typeTransform:  "transform-job",
	typeTuning:     "hyper-parameter-tuning-job",
}

// runJob simulates a job step: it runs for its duration and succeeds (or
// fails with x-emulator.fail); a stop makes it Stopping, then Stopped after
// the stop delay, as SageMaker stops the jobs it started itself.
func (e *Emulator) runJob(ctx context.Context, x *execution, s *stepRun) {
	e.transition(x, s, statusExecuting, "", func() {
		if kind := jobKinds[s.def.Type]; kind != "" {
			s.jobARN = e.jobARN(kind, x.id, s.def.Name)
		}
	})
	duration := e.opts.JobDuration
	if s.def.Sim.Duration != nil {
		duration = *s.def.Sim.Duration
	}
	jobCtx, cancel := context.WithTimeout(ctx, e.opts.scaled(duration))
	defer cancel()
	select {
	case <-jobCtx.Done():
		if ctx.Err() != nil {
			return
		}
		if s.def.Sim.Fail != "" {
			e.transition(x, s, statusFailed, s.def.Sim.Fail, nil)
			return
		}
		e.transition(x, s, statusSucceeded, "", nil)
	case <-x.stopCh:
		e.transition(x, s, statusStopping, "", nil)
		delay := e.opts.StopDelay
		if s.def.Sim.StopDelay != nil {
			delay = *s.def.Sim.StopDelay
		}
		if !e.sleep(ctx, delay) {
			return
		}
		e.transition(x, s, statusStopped, "", nil)
	}
}
