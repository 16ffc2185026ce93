package emulator

import "fmt"

// runCondition evaluates the step's conditions; run then starts the steps
// of the branch taken and never the others.
func (e *Emulator) runCondition(x *execution, s *stepRun) {
	e.transition(x, s, statusExecuting, "", nil)
	e.mu.Lock()
	r := e.snapshot(x)
	e.mu.Unlock()
	outcome, err := r.evalConditions(s.def.Conditions)
	if err != nil {
		e.transition(x, s, statusFailed, fmt.Sprintf("Condition evaluation failed: %v", err), nil)
		return
	}
	e.transition(x, s, statusSucceeded, "", func() { s.outcome = &outcome })
}

// runFail fails the step, and with it the execution, with the step's
// ErrorMessage.
func (e *Emulator) runFail(x *execution, s *stepRun) {
	e.transition(x, s, statusExecuting, "", nil)
	msg := ""
	args, err := e.resolveArgs(x, s)
	if err != nil {
		msg = fmt.Sprintf("Fail step ErrorMessage could not be resolved: %v", err)
	} else if m, ok := args.(map[string]any); ok {
		msg = primitiveString(m["ErrorMessage"])
	}
	e.transition(x, s, statusFailed, msg, func() { s.failMessage = &msg })
}
