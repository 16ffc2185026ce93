package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// subject is one bootstrap under measurement.
type subject struct {
	name string
	argv []string
	size int64 // bytes of the binary; 0 for an interpreted one
}

// runTimeout bounds one run: a bootstrap that has not polled by then is
// broken, not slow.
const runTimeout = 60 * time.Second

// env is what every bootstrap runs with: the settings each function
// validates at start-up and the local AWS configuration. Init makes no AWS
// call, so the endpoints lead nowhere on purpose.
func env(runtimeAPI string, extra ...string) []string {
	e := append(localaws.Env(),
		"PATH="+os.Getenv("PATH"),
		"HOME="+os.Getenv("HOME"),
		settings.TableName+"=ledger",
		settings.StopQueueURL+"=http://127.0.0.1:1/stop",
		settings.CallbackQueueURL+"=http://127.0.0.1:1/callback",
		settings.AllowedAccounts+"=123456789012",
		"AWS_ENDPOINT_URL=http://127.0.0.1:1",
		"AWS_LAMBDA_FUNCTION_NAME=coldstart",
		"AWS_LAMBDA_RUNTIME_API="+runtimeAPI,
	)
	return append(e, extra...)
}

// runtimeAPI is the Lambda runtime API as far as a bootstrap's init goes:
// it notes when the first GET .../invocation/next arrives and holds it.
type runtimeAPI struct {
	addr string
	srv  *http.Server
	mu   sync.Mutex
	poll chan time.Time // of the run in progress
}

func newRuntimeAPI() (*runtimeAPI, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a := &runtimeAPI{addr: l.Addr().String()}
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: runTimeout}
	go a.srv.Serve(l)
	return a, nil
}

func (a *runtimeAPI) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	if r.Method != http.MethodGet || r.URL.Path != "/2018-06-01/runtime/invocation/next" {
		http.Error(w, "not part of init", http.StatusNotFound)
		return
	}
	a.mu.Lock()
	ch := a.poll
	a.mu.Unlock()
	if ch != nil {
		select {
		case ch <- at:
		default: // a second poll of the same run
		}
	}
	<-r.Context().Done() // the bootstrap is killed while it waits
}

func (a *runtimeAPI) close() { a.srv.Close() }

// once execs s and returns the time until its first poll.
func (a *runtimeAPI) once(ctx context.Context, s subject, extraEnv ...string) (time.Duration, string, error) {
	ch := make(chan time.Time, 1)
	a.mu.Lock()
	a.poll = ch
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.poll = nil
		a.mu.Unlock()
	}()
	var output bytes.Buffer
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Env = env(a.addr, extraEnv...)
	cmd.Stdout, cmd.Stderr = &output, &output
	exited := make(chan error, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, "", fmt.Errorf("start %s: %w", s.name, err)
	}
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	select {
	case at := <-ch:
		stop()
		return at.Sub(start), output.String(), nil
	case err := <-exited:
		return 0, output.String(), fmt.Errorf("%s exited before it polled for an event (%v):\n%s", s.name, err, output.String())
	case <-time.After(runTimeout):
		stop()
		return 0, output.String(), fmt.Errorf("%s did not poll for an event within %s:\n%s", s.name, runTimeout, output.String())
	case <-ctx.Done():
		stop()
		return 0, "", ctx.Err()
	}
}

// measure runs every subject runs times, one run of each per round in a
// shuffled order, after one warm-up round that fills the page cache.
func measure(ctx context.Context, a *runtimeAPI, subjects []subject, runs int, rng *rand.Rand) (map[string][]time.Duration, error) {
	samples := map[string][]time.Duration{}
	order := make([]int, len(subjects))
	for i := range order {
		order[i] = i
	}
	for round := -1; round < runs; round++ {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			d, _, err := a.once(ctx, subjects[i])
			if err != nil {
				return nil, err
			}
			if round >= 0 {
				samples[subjects[i].name] = append(samples[subjects[i].name], d)
			}
		}
	}
	return samples, nil
}

// pythonSubject runs script with python3, when boto3 imports.
func pythonSubject(script string) (subject, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return subject{}, errors.New("python3 not found")
	}
	out, err := exec.Command(py, "-c", "import sys, boto3; print('%d.%d' % sys.version_info[:2], boto3.__version__)").Output()
	if err != nil {
		return subject{}, errors.New("boto3 is not installed (python3 -m pip install boto3)")
	}
	v := strings.Fields(string(out))
	return subject{name: fmt.Sprintf("python %s + boto3 %s", v[0], v[1]), argv: []string{py, script}}, nil
}

// machine names the machine the figures come from.
func machine() string {
	host, _ := os.Hostname()
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs (%s), %s/%s, %s; load average before: %s", host, runtime.NumCPU(), model, runtime.GOOS, runtime.GOARCH, runtime.Version(), loadAverage())
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
