package emulator

import (
	"encoding/json"
	"sort"
)

// Answer is a callback step's answer as the emulator accepted it: what
// SageMaker itself received, for checks that must not take the answering
// side's word for it.
type Answer struct {
	Token    string
	StepName string
	// Operation is SendPipelineExecutionStepSuccess or
	// SendPipelineExecutionStepFailure, or "" when the accepted call carried
	// no ClientRequestToken (the emulator keeps the operation only for
	// replays).
	Operation string
	// Accepted is how many calls the emulator accepted as this token's
	// answer: 1 when answered, 0 when not. A second answer is refused with
	// ConflictException and is never counted.
	Accepted int
}

// Answers lists, for every callback token of the execution, whether and
// how it was answered. It only reads.
func (e *Emulator) Answers(executionARN string) []Answer {
	e.mu.Lock()
	defer e.mu.Unlock()
	ops := map[string]string{} // token -> the accepted Send* operation
	for k, entry := range e.idem {
		if k.op != "SendPipelineExecutionStepSuccess" && k.op != "SendPipelineExecutionStepFailure" {
			continue
		}
		var in struct{ CallbackToken string } // the fingerprint is the request as JSON
		if json.Unmarshal([]byte(entry.fingerprint), &in) == nil && in.CallbackToken != "" {
			ops[in.CallbackToken] = k.op
		}
	}
	answeredBy := map[*stepRun]bool{} // steps whose answer's token is known
	for token := range ops {
		if ref, ok := e.tokens[token]; ok {
			answeredBy[ref.s] = true
		}
	}
	var out []Answer
	for token, ref := range e.tokens {
		if ref.x.arn != executionARN {
			continue
		}
		a := Answer{Token: token, StepName: ref.s.def.Name}
		if op, ok := ops[token]; ok {
			a.Accepted, a.Operation = 1, op
		} else if ref.s.answered && !answeredBy[ref.s] && ref.s.token == token {
			a.Accepted = 1 // accepted without a ClientRequestToken
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StepName+out[i].Token < out[j].StepName+out[j].Token })
	return out
}
