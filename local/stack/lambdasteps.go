package stack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

// Lambda is a function outside the template that the local stack runs:
// pipelines' Lambda steps reach it by its ARN, and stopcoord's own
// functions by name or ARN through the local Lambda Invoke API (a cleanup
// Lambda, a worker). It runs from a bootstrap under aws-lambda-rie,
// scaled out over as many instances as there are invocations under way, or
// it is an HTTP endpoint that gets the event as a POST and answers with
// the function's result.
type Lambda struct {
	ARN       string // arn:aws:lambda:REGION:ACCOUNT:function:NAME
	Bootstrap string // a host bootstrap to run under aws-lambda-rie, or
	URL       string // an endpoint to POST the event to
	// Timeout is the function timeout RIE enforces on a bootstrap.
	// Default 15 minutes, Lambda's most: a Lambda step's own timeout, as
	// the emulator models it, is what normally ends a step.
	Timeout time.Duration
}

// ParseLambda reads the -lambda flag's ARN=TARGET, where TARGET is an
// http(s) URL or the path of a bootstrap.
func ParseLambda(s string) (Lambda, error) {
	fnARN, target, ok := strings.Cut(s, "=")
	if !ok || fnARN == "" || target == "" {
		return Lambda{}, fmt.Errorf("%q: want ARN=path/to/bootstrap or ARN=http://host:port/path", s)
	}
	l := Lambda{ARN: fnARN}
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		l.URL = target
	} else {
		l.Bootstrap = target
	}
	return l, l.check()
}

// name is the function name in the ARN.
func (l Lambda) name() string {
	a, _ := arn.Parse(l.ARN)
	name, _ := strings.CutPrefix(a.Resource, "function:")
	name, _, _ = strings.Cut(name, ":") // a version or alias qualifier
	return name
}

func (l Lambda) check() error {
	a, err := arn.Parse(l.ARN)
	if err != nil || a.Service != "lambda" || !strings.HasPrefix(a.Resource, "function:") || l.name() == "" {
		return fmt.Errorf("%q is not a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)", l.ARN)
	}
	switch {
	case (l.URL == "") == (l.Bootstrap == ""):
		return fmt.Errorf("function %s: give either a bootstrap or a URL", l.ARN)
	case l.URL != "":
		u, err := url.Parse(l.URL)
		if err != nil || u.Host == "" {
			return fmt.Errorf("function %s: %q is not an http(s) URL with a host", l.ARN, l.URL)
		}
	default:
		info, err := os.Stat(l.Bootstrap)
		if err != nil {
			return fmt.Errorf("function %s: bootstrap: %w", l.ARN, err)
		}
		if info.IsDir() || info.Mode()&0o111 == 0 {
			return fmt.Errorf("function %s: bootstrap %s is not an executable file", l.ARN, l.Bootstrap)
		}
	}
	return nil
}

// DefaultLambdaConcurrency is how many instances of one bootstrap may run
// at once unless Config.LambdaConcurrency says otherwise.
const DefaultLambdaConcurrency = 10

// FunctionARN is the ARN the local stack gives a function of the template.
func FunctionARN(name string) string {
	return "arn:aws:lambda:" + pseudo["AWS::Region"] + ":" + pseudo["AWS::AccountId"] + ":function:" + name
}

// lambdaSteps tells the emulator where each function runs: the
// template's functions and those of Config.Lambdas, each at the local
// Lambda Invoke API, which dispatches by name. The functions themselves
// may start later (they need the emulator's URL); they only have to be
// there when a step runs.
func (s *Stack) lambdaSteps(cfg Config) (map[string]emulator.LambdaEndpoint, error) {
	endpoints := map[string]emulator.LambdaEndpoint{}
	names := map[string]string{} // function name -> what claims it
	add := func(fnARN, name, what string) error {
		if other, ok := names[name]; ok {
			return fmt.Errorf("function name %s is both %s and %s", name, other, what)
		}
		names[name] = what
		endpoints[fnARN] = emulator.LambdaEndpoint{URL: s.LambdaURL + invokePrefix + url.PathEscape(name) + "/invocations"}
		return nil
	}
	for _, id := range s.template.OfType("AWS::Lambda::Function") {
		if name := s.template.Resources[id].FunctionName(); name != "" {
			if err := add(FunctionARN(name), name, "the template's "+id); err != nil {
				return nil, err
			}
		}
	}
	for _, l := range cfg.Lambdas {
		if err := l.check(); err != nil {
			return nil, err
		}
		if err := add(l.ARN, l.name(), "-lambda "+l.ARN); err != nil {
			return nil, err
		}
	}
	return endpoints, nil
}

// startLambdas makes the functions of Config.Lambdas invocable. A
// bootstrap's instances start on its first invocation.
func (s *Stack) startLambdas(_ context.Context, cfg Config) error {
	if len(cfg.Lambdas) == 0 {
		return nil
	}
	riePath, err := rie.Find()
	if err != nil {
		return err
	}
	limit := cfg.LambdaConcurrency
	if limit <= 0 {
		limit = DefaultLambdaConcurrency
	}
	for _, l := range cfg.Lambdas {
		name := l.name()
		if l.URL != "" {
			s.Lambdas.Register(name, endpointInvoker{url: l.URL})
			continue
		}
		bootstrap, err := filepath.Abs(l.Bootstrap)
		if err != nil {
			return err
		}
		timeout := l.Timeout
		if timeout == 0 {
			timeout = 15 * time.Minute
		}
		pool := rie.NewPool(riePath, rie.Spec{Bootstrap: bootstrap, Name: name, Env: withOverrides(s.baseEnv(), cfg), Timeout: timeout,
			Log: s.functionLog(name), RIELogLevel: "warn"}, limit)
		s.onClose(pool.Stop)
		s.Lambdas.Register(name, pool)
	}
	return nil
}

// endpointInvoker POSTs the event to an HTTP endpoint that answers with
// the function's result.
type endpointInvoker struct{ url string }

func (e endpointInvoker) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", e.url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", e.url, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return body, fmt.Errorf("invoke %s: status %d: %s", e.url, resp.StatusCode, bytes.TrimSpace(body))
	}
	return body, nil
}
