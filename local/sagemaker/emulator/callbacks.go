package emulator

import (
	"context"
)

// Send* answers a callback step. The choices where the documentation is
// silent (README "open behaviours"):
//   - an unknown token is ResourceNotFound;
//   - a token whose step is no longer waiting (answered, or its execution
//     ended) is ConflictException;
//   - a retry with the ClientRequestToken of a call that succeeded gets the
//     same success again;
//   - after a stop, either answer makes the step Stopped.

func (e *Emulator) sendStepSuccess(_ context.Context, in *sendStepSuccessInput) (any, error) {
	outputs := make([]wireOutputParameter, 0, len(in.OutputParameters))
	for _, p := range in.OutputParameters {
		outputs = append(outputs, wireOutputParameter{Name: *p.Name, Value: *p.Value})
	}
	return e.answerCallback("SendPipelineExecutionStepSuccess", *in.CallbackToken, in.ClientRequestToken, in,
		callbackAnswer{status: statusSucceeded, outputs: outputs})
}

func (e *Emulator) sendStepFailure(_ context.Context, in *sendStepFailureInput) (any, error) {
	return e.answerCallback("SendPipelineExecutionStepFailure", *in.CallbackToken, in.ClientRequestToken, in,
		callbackAnswer{status: statusFailed, failureReason: deref(in.FailureReason, "")})
}

// answerCallback accepts the first answer for a waiting step and hands it to
// the step's goroutine, which makes the transition.
func (e *Emulator) answerCallback(op, token string, requestToken *string, in any, a callbackAnswer) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if out, ok, err := e.replay(op, requestToken, in); ok || err != nil {
		return out, err
	}
	ref, ok := e.tokens[token]
	if !ok {
		return nil, errNotFound("Pipeline execution step with callback token '%s' does not exist.", token)
	}
	x, s := ref.x, ref.s
	if s.answered || terminal(s.status) || terminal(x.status) {
		return nil, errConflict("Pipeline execution step '%s' of '%s' is not waiting for a callback (status %s).",
			s.def.Name, x.arn, s.status)
	}
	if x.status == statusStopping {
		// Whatever the consumer says after a stop, the step ends Stopped.
		a = callbackAnswer{status: statusStopped, outputs: a.outputs}
	}
	s.answered = true
	s.answer <- a // buffered for exactly this one answer
	out := &executionArnOutput{PipelineExecutionArn: x.arn}
	e.remember(op, requestToken, in, out)
	return out, nil
}
