// Package gluestandin fills the one gap in moto's Glue that stopcoord
// meets: moto 5.2.1 cannot stop a job run (no BatchStopJobRun). The
// stand-in sits in front of moto, forwards every other call, answers
// BatchStopJobRun as Glue does, and from then on reports the stopped runs
// as STOPPED in GetJobRun.
package gluestandin

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// StandIn is a running Glue stand-in.
type StandIn struct {
	URL     string
	srv     *httptest.Server
	mu      sync.Mutex
	stopped map[string]bool // job name + "/" + run id
	stops   []Stop
}

// Stop is one BatchStopJobRun the stand-in answered.
type Stop struct {
	JobName   string
	JobRunIDs []string
	At        time.Time // when it was answered
}

// Start runs a stand-in in front of the moto server at motoURL.
func Start(motoURL string) (*StandIn, error) {
	target, err := url.Parse(motoURL)
	if err != nil {
		return nil, err
	}
	g := &StandIn{stopped: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-Amz-Target") {
		case "AWSGlue.BatchStopJobRun":
			g.batchStop(w, r)
		case "AWSGlue.GetJobRun":
			g.getJobRun(w, r, proxy)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	g.URL = g.srv.URL
	return g, nil
}

// Close stops the stand-in.
func (g *StandIn) Close() { g.srv.Close() }

// Stops lists the BatchStopJobRun calls answered so far.
func (g *StandIn) Stops() []Stop {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]Stop(nil), g.stops...)
}

func (g *StandIn) batchStop(w http.ResponseWriter, r *http.Request) {
	var in struct {
		JobName   string
		JobRunIds []string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.JobName == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"__type": "InvalidInputException", "message": "JobName and JobRunIds are required"})
		return
	}
	g.mu.Lock()
	g.stops = append(g.stops, Stop{JobName: in.JobName, JobRunIDs: in.JobRunIds, At: time.Now()})
	ok := []map[string]string{}
	for _, id := range in.JobRunIds {
		g.stopped[in.JobName+"/"+id] = true
		ok = append(ok, map[string]string{"JobName": in.JobName, "JobRunId": id})
	}
	g.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"SuccessfulSubmissions": ok, "Errors": []any{}})
}

// getJobRun asks moto, then reports a run the stand-in stopped as STOPPED.
func (g *StandIn) getJobRun(w http.ResponseWriter, r *http.Request, proxy *httputil.ReverseProxy) {
	body, _ := io.ReadAll(r.Body)
	var in struct{ JobName, RunId string }
	json.Unmarshal(body, &in)
	r.Body = io.NopCloser(bytes.NewReader(body))
	g.mu.Lock()
	stopped := g.stopped[in.JobName+"/"+in.RunId]
	g.mu.Unlock()
	if !stopped {
		proxy.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	proxy.ServeHTTP(rec, r)
	var out map[string]map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out["JobRun"] == nil {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
		return
	}
	out["JobRun"]["JobRunState"] = "STOPPED"
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}
