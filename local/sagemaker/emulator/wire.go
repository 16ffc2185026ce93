package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"strings"
)

// The AWS JSON 1.1 protocol as the Go SDK speaks it: every operation is a
// POST to / with the operation in X-Amz-Target and the members as a JSON
// object; errors are a non-2xx status with __type and Message.
const (
	targetPrefix = "SageMaker."
	contentType  = "application/x-amz-json-1.1"
)

// operation decodes one request body, runs the operation and returns the
// response members.
type operation func(e *Emulator, ctx context.Context, body []byte) (any, error)

// operations is every emulated operation by its X-Amz-Target name.
var operations map[string]operation

func init() {
	operations = map[string]operation{
		"CreatePipeline":                   decodeThen((*Emulator).createPipeline),
		"DescribePipeline":                 decodeThen((*Emulator).describePipeline),
		"DeletePipeline":                   decodeThen((*Emulator).deletePipeline),
		"ListPipelines":                    decodeThen((*Emulator).listPipelines),
		"StartPipelineExecution":           decodeThen((*Emulator).startPipelineExecution),
		"DescribePipelineExecution":        decodeThen((*Emulator).describePipelineExecution),
		"ListPipelineExecutions":           decodeThen((*Emulator).listPipelineExecutions),
		"ListPipelineExecutionSteps":       decodeThen((*Emulator).listPipelineExecutionSteps),
		"StopPipelineExecution":            decodeThen((*Emulator).stopPipelineExecution),
		"SendPipelineExecutionStepSuccess": decodeThen((*Emulator).sendStepSuccess),
		"SendPipelineExecutionStepFailure": decodeThen((*Emulator).sendStepFailure),

		"UpdatePipeline":                         decodeThen((*Emulator).updatePipeline),
		"ListPipelineVersions":                   decodeThen((*Emulator).listPipelineVersions),
		"UpdatePipelineVersion":                  decodeThen((*Emulator).updatePipelineVersion),
		"UpdatePipelineExecution":                decodeThen((*Emulator).updatePipelineExecution),
		"RetryPipelineExecution":                 decodeThen((*Emulator).retryPipelineExecution),
		"DescribePipelineDefinitionForExecution": decodeThen((*Emulator).describePipelineDefinitionForExecution),
		"ListPipelineParametersForExecution":     decodeThen((*Emulator).listPipelineParametersForExecution),
	}
}

// decodeThen adapts a typed operation to the wire: an empty body is {}, a
// body that is not a JSON object of the right member types is a
// SerializationException, unknown members are ignored (newer SDKs send
// members this emulator does not model).
func decodeThen[In any](fn func(*Emulator, context.Context, *In) (any, error)) operation {
	return func(e *Emulator, ctx context.Context, body []byte) (any, error) {
		in := new(In)
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, in); err != nil {
				return nil, errSerialization("Could not decode the request body: %v", err)
			}
		}
		return fn(e, ctx, in)
	}
}

// ServeHTTP is the emulator's wire entry point. It never lets a panic out:
// a bug becomes a logged 500 InternalFailure, which the SDK retries.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	w.Header().Set("X-Amzn-RequestId", requestID)
	defer func() {
		if p := recover(); p != nil {
			e.log.ErrorContext(r.Context(), "panic while handling a request",
				"panic", p, "requestId", requestID, "stack", string(debug.Stack()))
			writeError(w, errInternal())
		}
	}()
	if r.Method == http.MethodGet && r.URL.Path == "/health" {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	if r.Method != http.MethodPost || (r.URL.Path != "/" && r.URL.Path != "") {
		writeError(w, newAPIError(http.StatusNotFound, codeUnknownOperation,
			"The emulator serves POST / with X-Amz-Target: SageMaker.<Operation>"))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, targetPrefix)
	op := operations[name]
	if !ok || op == nil {
		writeError(w, newAPIError(http.StatusBadRequest, codeUnknownOperation,
			"Operation %q is not supported by the SageMaker Pipelines emulator", target))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, e.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, newAPIError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
				"Request body is larger than %d bytes", tooLarge.Limit))
			return
		}
		writeError(w, errSerialization("Could not read the request body: %v", err))
		return
	}
	ctx := r.Context()
	if err := e.faults.inject(ctx, name); err != nil {
		e.log.DebugContext(ctx, "injected fault", "operation", name, "error", err, "requestId", requestID)
		writeError(w, err)
		return
	}
	if err := checkRequest(name, body); err != nil {
		e.log.DebugContext(ctx, "request refused by the service model", "operation", name, "error", err, "requestId", requestID)
		writeError(w, err)
		return
	}
	out, err := op(e, ctx, body)
	if err != nil {
		e.log.DebugContext(ctx, "request failed", "operation", name, "error", err, "requestId", requestID)
		writeError(w, err)
		return
	}
	e.log.DebugContext(ctx, "request", "operation", name, "requestId", requestID)
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only a bug in a response type gets here; the body must still be
		// the protocol's error shape.
		status = http.StatusInternalServerError
		b = []byte(`{"__type":"InternalFailure","Message":"could not encode the response"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeError sends the error in the JSON 1.1 envelope. The code is in both
// the X-Amzn-ErrorType header and __type; the SDK reads the header first.
func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errInternal()
	}
	w.Header().Set("X-Amzn-ErrorType", ae.Code)
	writeJSON(w, ae.Status, struct {
		Type    string `json:"__type"`
		Message string `json:"Message"`
	}{ae.Code, ae.Message})
}
