// Package procs starts the local stand-ins for AWS services (DynamoDB Local,
// moto_server, aws-lambda-rie, the SageMaker emulator) as child processes on
// free 127.0.0.1 ports, waits until they answer, and stops and reaps them.
package procs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Spec describes a server to start.
type Spec struct {
	Name string   // for messages
	Path string   // executable
	Args []string // arguments
	Dir  string   // working directory; empty means the current one
	Env  []string // extra environment, appended to os.Environ()
	// Ready reports nil once the server answers. It is polled until it
	// succeeds, the process exits or ReadyTimeout passes.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds the wait for Ready. Default: 2 minutes times
	// Slowdown(). It only ends a wait for a server that never comes up;
	// one that exits is noticed at once.
	ReadyTimeout time.Duration
	// Log, when set, also receives everything the process writes to stdout
	// and stderr, as it is written (Output keeps a bounded copy).
	Log io.Writer
}

// Process is a running child server.
type Process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error // exit error, valid once done is closed
	once sync.Once
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs the server and polls Ready until it answers. On failure the
// process is stopped and its output is part of the error.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = append(os.Environ(), spec.Env...)
	out := &syncBuffer{}
	var w io.Writer = out
	if spec.Log != nil {
		w = io.MultiWriter(out, spec.Log)
	}
	cmd.Stdout, cmd.Stderr = w, w
	// A process group of its own, so Stop reaches the JVM or Python behind a
	// wrapper script too; and a signal to the child if this process dies
	// without stopping it (a killed test binary must not leave servers).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Process{name: spec.Name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	if spec.Ready == nil {
		return p, nil
	}
	timeout := spec.ReadyTimeout
	if timeout == 0 {
		timeout = Scaled(2 * time.Minute)
	}
	if err := p.waitReady(ctx, spec.Ready, timeout); err != nil {
		p.Stop()
		return nil, fmt.Errorf("start %s: %w\n--- output ---\n%s", spec.Name, err, p.Output())
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, ready func(context.Context) error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		last = ready(attempt)
		cancelAttempt()
		if last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited before it was ready: %v", p.err)
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w", timeout, errors.Join(ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// Pid is the child's process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Output is everything the process wrote to stdout and stderr so far.
func (p *Process) Output() string { return p.out.String() }

// Stop sends SIGTERM to the process group, waits up to five seconds, then
// SIGKILLs it, and always reaps the child. It is safe to call more than once.
func (p *Process) Stop() {
	p.once.Do(func() {
		pgid := -p.cmd.Process.Pid
		_ = syscall.Kill(pgid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(pgid, syscall.SIGKILL)
			<-p.done
		}
		// Children of the group leader that ignored SIGTERM.
		_ = syscall.Kill(pgid, syscall.SIGKILL)
	})
}

// HTTPURL is the base URL of a server listening on 127.0.0.1:port.
func HTTPURL(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// maxOutput bounds what is kept of a child's output: the start is what
// explains a failed start, and a long-lived server must not grow without end.
const maxOutput = 1 << 20

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxOutput - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
