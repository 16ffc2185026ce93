package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// sageMakerFront stands in front of the emulator for every SageMaker
// client of the run (the functions' and the harness's own). It forwards
// the pipeline operations, records every Send* attempt with what the
// emulator answered (the truth about callback answers), and serves the
// Stop*Job operations the emulator does not model, as the cleaners call
// them, from the fake job state.
type sageMakerFront struct {
	target atomic.Value // string: the emulator's URL, set once it runs
	client *http.Client
	jobs   *fakeJobs
	faults *faultDice

	mu      sync.Mutex
	answers []sendRecord
}

// sendRecord is one Send* call and how the emulator answered it.
type sendRecord struct {
	Op, Token, RequestToken, Caller string
	Status                          int
	ErrorType                       string
	At                              time.Time
}

func newSageMakerFront(jobs *fakeJobs, faults *faultDice) *sageMakerFront {
	return &sageMakerFront{client: &http.Client{Timeout: 60 * time.Second}, jobs: jobs, faults: faults}
}

func (f *sageMakerFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "ValidationException", err.Error())
		return
	}
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "SageMaker.")
	if kind, ok := stopJobOps[op]; ok {
		f.stopJob(w, kind, body)
		return
	}
	target, _ := f.target.Load().(string)
	if target == "" {
		jsonError(w, http.StatusServiceUnavailable, "ServiceUnavailable", "the emulator is not up yet")
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		jsonError(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	req.Header = r.Header.Clone()
	resp, err := f.client.Do(req)
	if err != nil {
		jsonError(w, http.StatusBadGateway, "InternalFailure", "forward to the emulator: "+err.Error())
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if op == "SendPipelineExecutionStepSuccess" || op == "SendPipelineExecutionStepFailure" {
		var in struct{ CallbackToken, ClientRequestToken string }
		json.Unmarshal(body, &in)
		var e struct {
			Type string `json:"__type"`
		}
		if resp.StatusCode != http.StatusOK {
			json.Unmarshal(out, &e)
		}
		caller := "stopcoord"
		if strings.Contains(r.Header.Get("User-Agent"), "app/chaos-worker") {
			caller = "worker"
		}
		f.mu.Lock()
		f.answers = append(f.answers, sendRecord{Op: op, Token: in.CallbackToken, RequestToken: in.ClientRequestToken, Caller: caller,
			Status: resp.StatusCode, ErrorType: e.Type, At: time.Now()})
		f.mu.Unlock()
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}

var stopJobOps = map[string]string{
	"StopTrainingJob":   "sagemaker-training-job",
	"StopProcessingJob": "sagemaker-processing-job",
	"StopTransformJob":  "sagemaker-transform-job",
}

func (f *sageMakerFront) stopJob(w http.ResponseWriter, kind string, body []byte) {
	if f.faults.throttled() {
		jsonError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
		return
	}
	if f.faults.failed() {
		jsonError(w, http.StatusInternalServerError, "InternalFailure", "injected")
		return
	}
	var in map[string]string
	json.Unmarshal(body, &in)
	name := in["TrainingJobName"] + in["ProcessingJobName"] + in["TransformJobName"]
	if !f.jobs.stop(kind, name, "stopcoord") {
		jsonError(w, http.StatusBadRequest, "ResourceNotFound", "Requested resource not found")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Write([]byte(`{}`))
}

// sends returns every Send* call so far.
func (f *sageMakerFront) sends() []sendRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sendRecord(nil), f.answers...)
}

// fakeServices answers the cleaners' calls to the services moto cannot
// serve (shared/cleanup's tests say why): Batch TerminateJob (REST JSON)
// and ECS StopTask (JSON 1.1), from the same fake job state.
type fakeServices struct{ jobs *fakeJobs }

func (s fakeServices) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var in map[string]string
	json.Unmarshal(body, &in)
	switch {
	case r.URL.Path == "/v1/terminatejob":
		s.jobs.stop("batch-job", in["jobId"], "stopcoord") // an unknown job is no error for TerminateJob
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	case r.Header.Get("X-Amz-Target") == "AmazonEC2ContainerServiceV20141113.StopTask":
		if !s.jobs.stop("ecs-task", in["task"], "stopcoord") {
			jsonError(w, http.StatusBadRequest, "InvalidParameterException", "The referenced task was not found.")
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fmt.Fprintf(w, `{"task":{"taskArn":%q,"clusterArn":%q,"desiredStatus":"STOPPED","lastStatus":"RUNNING","cpu":"256","memory":"512"}}`, in["task"], in["cluster"])
	default:
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Target"))
	}
}

// fakeJobs is what the fake services know: jobs the workers started, and
// every stop of each.
type fakeJobs struct {
	mu   sync.Mutex
	jobs map[string]*fakeJob // kind#id
}

type fakeJob struct {
	started time.Time
	stops   []jobStop
}

type jobStop struct {
	at time.Time
	by string // stopcoord, or the worker after a refused registration
}

func newFakeJobs() *fakeJobs { return &fakeJobs{jobs: map[string]*fakeJob{}} }

func (j *fakeJobs) start(kind, id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.jobs[kind+"#"+id] = &fakeJob{started: time.Now()}
}

// stop records a stop and reports whether the job is known.
func (j *fakeJobs) stop(kind, id, by string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	job, ok := j.jobs[kind+"#"+id]
	if !ok {
		return false
	}
	job.stops = append(job.stops, jobStop{at: time.Now(), by: by})
	return true
}

// stopsOf returns the stops of one job.
func (j *fakeJobs) stopsOf(kind, id string) []jobStop {
	j.mu.Lock()
	defer j.mu.Unlock()
	if job, ok := j.jobs[kind+"#"+id]; ok {
		return append([]jobStop(nil), job.stops...)
	}
	return nil
}

// faultDice draws the injected faults of the fake SageMaker operations with
// the run's seed, at the same rates as the emulator's.
type faultDice struct {
	mu                 sync.Mutex
	rng                *rand.Rand
	throttle, internal float64
}

func (d *faultDice) roll() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64()
}

func (d *faultDice) throttled() bool { return d.throttle > 0 && d.roll() < d.throttle }
func (d *faultDice) failed() bool    { return d.internal > 0 && d.roll() < d.internal }

func jsonError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": typ, "message": msg, "Message": msg})
	w.Write(b)
}
