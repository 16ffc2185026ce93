package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Status is the status a callback message announces.
type Status string

const (
	// StatusExecuting is the start message: the step began and waits for
	// its worker.
	StatusExecuting Status = "Executing"
	// StatusStopping is sent when the execution is stopped while the step
	// waits: clean up, then answer the token.
	StatusStopping Status = "Stopping"
)

// MaxBodyBytes is SQS's largest message body (256 KiB); anything longer was
// not written by SageMaker.
const MaxBodyBytes = 256 << 10

// Message is one callback message as SageMaker sends it.
type Message struct {
	Token        string
	ExecutionARN pipeline.ExecutionARN
	// Arguments are the step's inputs with expressions resolved; JSON
	// numbers arrive as float64.
	Arguments map[string]any
	Status    Status
}

// The body's keys, lower-cased. The API reference spells the status key
// "Status", the developer guide "status"; every key is matched without
// regard to case so either spelling (and any future one) is read.
const (
	keyToken     = "token"
	keyARN       = "pipelineexecutionarn"
	keyArguments = "arguments"
	keyStatus    = "status"
)

// Parse reads a callback message body. It is strict about what it needs (a
// JSON object, a valid token and execution ARN, an object of arguments, a
// known status, no key given twice) and kind about the rest: keys in any
// case, a missing status means the start message (the start message may
// carry none), null arguments mean none, and keys it does not know are
// ignored so that a field SageMaker adds one day does not park every
// message in the dead-letter queue. Every refusal is an EInvalid error whose
// message is the reason recorded with the rejected message.
func Parse(body string) (Message, error) {
	if len(body) > MaxBodyBytes {
		return Message{}, reject("body is %d bytes, more than SQS allows (%d)", len(body), MaxBodyBytes)
	}
	if !utf8.ValidString(body) {
		return Message{}, reject("body is not valid UTF-8")
	}
	fields, err := topLevel(body)
	if err != nil {
		return Message{}, err
	}
	var m Message
	token, ok := fields[keyToken]
	if !ok {
		return Message{}, reject("token is missing")
	}
	if err := json.Unmarshal(token, &m.Token); err != nil {
		return Message{}, reject("token is not a string")
	}
	if err := pipeline.ValidateCallbackToken(m.Token); err != nil {
		return Message{}, reject("%s", pipeline.Message(err))
	}
	rawARN, ok := fields[keyARN]
	if !ok {
		return Message{}, reject("pipelineExecutionArn is missing")
	}
	var arn string
	if err := json.Unmarshal(rawARN, &arn); err != nil {
		return Message{}, reject("pipelineExecutionArn is not a string")
	}
	if m.ExecutionARN, err = pipeline.ParseExecutionARN(arn); err != nil {
		return Message{}, reject("%s", pipeline.Message(err))
	}
	if args, ok := fields[keyArguments]; ok {
		if err := json.Unmarshal(args, &m.Arguments); err != nil {
			return Message{}, reject("arguments is not a JSON object")
		}
	}
	if m.Status, err = parseStatus(fields[keyStatus]); err != nil {
		return Message{}, err
	}
	return m, nil
}

// topLevel splits the body's top-level object into its members by
// lower-cased key, refusing a key given twice in any spelling: with both
// "status" and "Status" there is no telling which SageMaker meant.
func topLevel(body string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, reject("body is not a JSON object")
	}
	fields := make(map[string]json.RawMessage, 4)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, reject("body is not valid JSON")
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, reject("body is not valid JSON")
		}
		k := strings.ToLower(name)
		if _, dup := fields[k]; dup {
			return nil, reject("key %q appears more than once", truncate(name, 40))
		}
		fields[k] = value
	}
	if _, err := dec.Token(); err != nil {
		return nil, reject("body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, reject("body has data after the JSON object")
	}
	return fields, nil
}

func parseStatus(raw json.RawMessage) (Status, error) {
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return StatusExecuting, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", reject("status is not a string")
	}
	switch {
	case strings.EqualFold(s, string(StatusExecuting)):
		return StatusExecuting, nil
	case strings.EqualFold(s, string(StatusStopping)):
		return StatusStopping, nil
	}
	return "", reject("status %q is not Executing or Stopping", truncate(s, 40))
}

// reject is a parse refusal: an EInvalid error whose message is the reason.
func reject(format string, args ...any) error {
	return &pipeline.Error{Code: pipeline.EInvalid, Message: fmt.Sprintf(format, args...)}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
