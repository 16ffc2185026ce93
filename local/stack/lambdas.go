package stack

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/stopcoord/stopcoord/local/rie"
)

// Invoker runs one function; *rie.Function is one.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// lambdaAPI is the local Lambda service endpoint (what `sam local
// start-lambda` provides): the Invoke API, POST
// /2015-03-31/functions/{name}/invocations, dispatched by function name or
// ARN to the functions of the stack and to any the caller registers.
type lambdaAPI struct {
	mu    sync.Mutex
	fns   map[string]Invoker
	log   *slog.Logger
	async sync.WaitGroup
	ctx   context.Context
}

func newLambdaAPI(ctx context.Context, log *slog.Logger) *lambdaAPI {
	return &lambdaAPI{fns: map[string]Invoker{}, log: log, ctx: ctx}
}

// Register makes a function invocable by name (and by any ARN ending in it).
func (l *lambdaAPI) Register(name string, fn Invoker) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.fns[name] = fn
}

func (l *lambdaAPI) lookup(nameOrARN string) Invoker {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := nameOrARN
	if i := strings.LastIndex(nameOrARN, ":function:"); i >= 0 {
		name = nameOrARN[i+len(":function:"):]
		name, _, _ = strings.Cut(name, ":") // drop a version or alias qualifier
	}
	return l.fns[name]
}

const invokePrefix = "/2015-03-31/functions/"

func (l *lambdaAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, invokePrefix)
	name, ok2 := strings.CutSuffix(rest, "/invocations")
	if !ok || !ok2 || r.Method != http.MethodPost {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "no such route: "+r.Method+" "+r.URL.Path)
		return
	}
	fn := l.lookup(name)
	if fn == nil {
		lambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "Function not found: "+name)
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 6<<20))
	if err != nil {
		lambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", err.Error())
		return
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "Event":
		// Asynchronous: accepted now, run in the background as Lambda does.
		l.async.Add(1)
		go func() {
			defer l.async.Done()
			if _, err := fn.Invoke(l.ctx, payload); err != nil {
				l.log.Warn("asynchronous invocation failed", "function", name, "error", err.Error())
			}
		}()
		w.WriteHeader(http.StatusAccepted)
		return
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	}
	out, err := fn.Invoke(r.Context(), payload)
	var fe *rie.FunctionError
	switch {
	case errors.As(err, &fe):
		// A function error is a 200 with X-Amz-Function-Error, as Lambda answers.
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if len(out) == 0 {
			out = []byte(`{"errorType":"` + fe.Type + `","errorMessage":` + quote(fe.Message) + `}`)
		}
		w.Write(out)
	case err != nil:
		lambdaError(w, http.StatusBadGateway, "ServiceException", err.Error())
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amz-Executed-Version", "$LATEST")
		w.Write(out)
	}
}

// Wait waits for the asynchronous invocations under way.
func (l *lambdaAPI) Wait() { l.async.Wait() }

func lambdaError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	w.Write([]byte(`{"Type":"User","message":` + quote(msg) + `}`))
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
