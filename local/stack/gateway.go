package stack

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/stopcoord/stopcoord/local/apigw"
	"github.com/stopcoord/stopcoord/local/localaws"
)

// CallerHeader lets an unsigned local request say which IAM principal it
// stands for; a signed request stands for the principal of its key, as in
// API Gateway.
const CallerHeader = "X-Stopcoord-Caller"

// DefaultCaller is the principal of the local credentials (localaws) and of
// unsigned local requests without CallerHeader.
const DefaultCaller = "arn:aws:iam::123456789012:user/local-developer"

// LocalCredentials are the keys the local gateway accepts: the fixed test
// credentials every local part uses (localaws).
var LocalCredentials = []apigw.Credential{{AccessKeyID: "test", SecretAccessKey: "test", PrincipalARN: DefaultCaller}}

// route is one HTTP API route and the function behind it.
type route struct {
	key      string   // "POST /pipelines/{name}/stops"
	method   string   // "POST"
	segments []string // "pipelines", "{name}", "stops"
	fn       Invoker
}

// gateway turns HTTP requests into API Gateway v2 (payload 2.0) events for
// the route they match, as `sam local start-api` does.
type gateway struct {
	routes  []route
	maxBody int64
	log     *slog.Logger
	// verifier checks every SigV4-signed request as API Gateway's IAM
	// authorisation does; requireSigned also refuses unsigned ones (403),
	// which otherwise stand for DefaultCaller or CallerHeader.
	verifier      *apigw.Verifier
	requireSigned bool
}

func newGateway(cfg Config, log *slog.Logger) *gateway {
	return &gateway{maxBody: 10 << 20, log: log, requireSigned: cfg.RequireSigV4,
		verifier: &apigw.Verifier{Region: localaws.Region, Credentials: LocalCredentials}}
}

func newRoute(key string, fn Invoker) route {
	method, path, _ := strings.Cut(key, " ")
	return route{key: key, method: method, segments: strings.Split(strings.Trim(path, "/"), "/"), fn: fn}
}

// match returns the path parameters when the path fits the route. The
// values stay URL-encoded, as API Gateway passes them.
func (r route) match(method, rawPath string) (map[string]string, bool) {
	if r.method != method && r.method != "ANY" {
		return nil, false
	}
	parts := strings.Split(strings.Trim(rawPath, "/"), "/")
	params := map[string]string{}
	for i, seg := range r.segments {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}") {
			if i >= len(parts) {
				return nil, false
			}
			params[strings.Trim(seg, "{+}")] = strings.Join(parts[i:], "/")
			return params, true
		}
		if i >= len(parts) {
			return nil, false
		}
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if parts[i] == "" {
				return nil, false
			}
			params[strings.Trim(seg, "{}")] = parts[i]
			continue
		}
		if seg != parts[i] {
			return nil, false
		}
	}
	return params, len(parts) == len(r.segments)
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rawPath := r.URL.EscapedPath()
	for _, rt := range g.routes {
		params, ok := rt.match(r.Method, rawPath)
		if !ok {
			continue
		}
		g.serve(w, r, rt, rawPath, params)
		return
	}
	writeJSON(w, http.StatusNotFound, `{"message":"Not Found"}`)
}

func (g *gateway) serve(w http.ResponseWriter, r *http.Request, rt route, rawPath string, params map[string]string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, g.maxBody+1))
	if err != nil || int64(len(body)) > g.maxBody {
		// API Gateway's own limit on a request payload.
		writeJSON(w, http.StatusRequestEntityTooLarge, `{"message":"Request Entity Too Large"}`)
		return
	}
	caller, refusal := g.authorise(r, body)
	if refusal != nil {
		g.log.Info("request refused by the gateway's IAM authorisation", "route", rt.key, "reason", refusal.Message)
		writeJSON(w, refusal.Status, string(mustJSON(map[string]string{"message": refusal.Message})))
		return
	}
	headers := map[string]string{}
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	ev := apigw.Event(apigw.Request{Method: r.Method, RouteKey: rt.key, Path: rawPath, PathParams: params, Headers: headers, CallerARN: caller})
	ev.RawQueryString = r.URL.RawQuery
	// As API Gateway's payload 2.0: decoded, repeated values joined by commas.
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = map[string]string{}
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	payload, err := jsonMarshal(ev)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, `{"message":"Internal Server Error"}`)
		return
	}
	out, err := rt.fn.Invoke(context.WithoutCancel(r.Context()), payload)
	if err != nil {
		// What API Gateway answers when the integration fails.
		g.log.Warn("function failed behind the gateway", "route", rt.key, "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, `{"message":"Internal Server Error"}`)
		return
	}
	resp, err := apigw.Response(out)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, `{"message":"Internal Server Error"}`)
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	respBody := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if respBody, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			writeJSON(w, http.StatusBadGateway, `{"message":"Internal Server Error"}`)
			return
		}
	}
	w.WriteHeader(status)
	w.Write(respBody)
}

// authorise is API Gateway's IAM authorisation: a signed request must
// verify and stands for its key's principal.
func (g *gateway) authorise(r *http.Request, body []byte) (string, *apigw.Refusal) {
	if apigw.Signed(r) || g.requireSigned {
		return g.verifier.Verify(r, body)
	}
	if caller := r.Header.Get(CallerHeader); caller != "" {
		return caller, nil
	}
	return DefaultCaller, nil
}

func mustJSON(v any) []byte {
	b, _ := jsonMarshal(v) // a map of strings cannot fail
	return b
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write([]byte(body))
}
