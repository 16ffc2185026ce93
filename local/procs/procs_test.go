package procs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/procs"
)

// TestMain doubles as the child server: with PROCS_HELPER set, the test
// binary serves HTTP on the given port (or exits at once) instead of testing.
func TestMain(m *testing.M) {
	switch os.Getenv("PROCS_HELPER") {
	case "serve":
		fmt.Println("helper starting")
		http.HandleFunc("/", func(http.ResponseWriter, *http.Request) {})
		_ = http.ListenAndServe("127.0.0.1:"+os.Getenv("PROCS_PORT"), nil)
		os.Exit(0)
	case "exit":
		fmt.Println("helper giving up")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

func ready(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
}

func TestStartWaitsUntilReadyAndStopReaps(t *testing.T) {
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	url := procs.HTTPURL(port)
	p, err := procs.Start(context.Background(), procs.Spec{
		Name:  "helper",
		Path:  os.Args[0],
		Env:   []string{"PROCS_HELPER=serve", "PROCS_PORT=" + strconv.Itoa(port)},
		Ready: ready(url),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ready(url)(context.Background()); err != nil {
		t.Fatalf("Start returned before the server answered: %v", err)
	}
	if !strings.Contains(p.Output(), "helper starting") {
		t.Fatalf("output not captured: %q", p.Output())
	}
	p.Stop()
	select {
	case <-p.Done():
	default:
		t.Fatal("Stop returned before the child was reaped")
	}
	if err := syscall.Kill(p.Pid(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("child %d still exists after Stop: %v", p.Pid(), err)
	}
	p.Stop() // a second Stop is harmless
}

func TestStartReportsAChildThatExitsEarly(t *testing.T) {
	start := time.Now()
	_, err := procs.Start(context.Background(), procs.Spec{
		Name:         "helper",
		Path:         os.Args[0],
		Env:          []string{"PROCS_HELPER=exit"},
		Ready:        func(context.Context) error { return errors.New("not yet") },
		ReadyTimeout: time.Minute,
	})
	if err == nil {
		t.Fatal("Start succeeded for a child that exited")
	}
	if !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "helper giving up") {
		t.Fatalf("error does not explain the exit or show the output: %v", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("Start waited for the ready timeout instead of noticing the exit")
	}
}

func TestStartTimesOut(t *testing.T) {
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = procs.Start(context.Background(), procs.Spec{
		Name:         "helper",
		Path:         os.Args[0],
		Env:          []string{"PROCS_HELPER=serve", "PROCS_PORT=" + strconv.Itoa(port)},
		Ready:        func(context.Context) error { return errors.New("never ready") },
		ReadyTimeout: 300 * time.Millisecond,
	})
	if err == nil || !strings.Contains(err.Error(), "never ready") {
		t.Fatalf("err = %v, want a timeout naming the last readiness error", err)
	}
}

func TestMissingToolFailsInCI(t *testing.T) {
	t.Setenv("CI", "true")
	if !procs.InCI() {
		t.Fatal("InCI() is false with CI=true")
	}
	ft := &fakeTB{TB: t}
	procs.Missing(ft, "java not found")
	if !ft.fatal || ft.skipped {
		t.Fatalf("with CI=true a missing tool must fail the test, not skip it (fatal=%v skipped=%v)", ft.fatal, ft.skipped)
	}
	t.Setenv("CI", "")
	ft = &fakeTB{TB: t}
	procs.Missing(ft, "java not found")
	if ft.fatal || !ft.skipped {
		t.Fatalf("outside CI a missing tool must skip the test (fatal=%v skipped=%v)", ft.fatal, ft.skipped)
	}
}

// fakeTB records Fatalf and Skip instead of ending the test.
type fakeTB struct {
	testing.TB
	fatal, skipped bool
}

func (f *fakeTB) Helper()               {}
func (f *fakeTB) Fatalf(string, ...any) { f.fatal = true }
func (f *fakeTB) Skip(...any)           { f.skipped = true }
func (f *fakeTB) Skipf(string, ...any)  { f.skipped = true }
