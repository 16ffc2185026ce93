// Package moto runs moto_server, the local stand-in for SQS, EventBridge and
// the services the cleaners call, on a free 127.0.0.1 port.
package moto

import (
	"context"
	"crypto/sha256"
	_ "embed" // sitecustomize.py
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stopcoord/stopcoord/local/procs"
)

// InstallHint says how to get moto_server where it is missing.
const InstallHint = `install moto in server mode: python3 -m pip install "moto[server]"`

// AccountID is the account moto puts in every ARN and queue URL.
const AccountID = "123456789012"

// Server is a running moto_server.
type Server struct {
	URL  string
	proc *procs.Process
}

// Start launches moto_server on a free port and waits until it answers.
func Start(ctx context.Context, path string) (*Server, error) {
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	url := procs.HTTPURL(port)
	patch, err := patchDir()
	if err != nil {
		return nil, err
	}
	p, err := procs.Start(ctx, procs.Spec{
		Name:  "moto_server",
		Path:  path,
		Args:  []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)},
		Env:   []string{"PYTHONPATH=" + joinPath(patch, os.Getenv("PYTHONPATH"))},
		Ready: func(ctx context.Context) error { return get(ctx, url+"/moto-api/") },
	})
	if err != nil {
		return nil, err
	}
	return &Server{URL: url, proc: p}, nil
}

// pypatch holds sitecustomize.py, which Python imports at start-up from
// PYTHONPATH: it makes moto's SQS SendMessage cost the same whatever the
// queue's depth, as real SQS's does (see the file for why).
//
//go:embed pypatch/sitecustomize.py
var sitecustomize []byte

var (
	patchOnce sync.Once
	patchPath string
	patchErr  error
)

// patchDir writes sitecustomize.py, once per process, to a folder named by
// its content's hash under the temporary directory (so runs share it and
// none is left behind per run), and returns the folder.
func patchDir() (string, error) {
	patchOnce.Do(func() {
		sum := sha256.Sum256(sitecustomize)
		dir := filepath.Join(os.TempDir(), "stopcoord-moto-patch-"+hex.EncodeToString(sum[:8]))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			patchErr = fmt.Errorf("moto patch: %w", err)
			return
		}
		// Written to a unique name, then renamed: a concurrent start never
		// reads half a file.
		tmp, err := os.CreateTemp(dir, "sitecustomize-*.tmp")
		if err == nil {
			_, err = tmp.Write(sitecustomize)
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), filepath.Join(dir, "sitecustomize.py"))
			}
			if err != nil {
				os.Remove(tmp.Name())
			}
		}
		if err != nil {
			patchErr = fmt.Errorf("moto patch: %w", err)
			return
		}
		patchPath = dir
	})
	return patchPath, patchErr
}

func joinPath(first, rest string) string {
	if rest == "" {
		return first
	}
	return first + string(os.PathListSeparator) + rest
}

// StartT starts moto_server for a test and stops it when the test ends. It
// skips (fails in CI) when moto_server is not installed.
func StartT(t testing.TB) *Server {
	t.Helper()
	path := procs.RequireTool(t, "moto_server", InstallHint)
	s, err := Start(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Output is what the server wrote lately (a bounded copy).
func (s *Server) Output() string { return s.proc.Output() }

// Stop stops and reaps the server.
func (s *Server) Stop() { s.proc.Stop() }

// Reset drops every resource moto holds.
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	return do(req)
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return do(req)
}

func do(req *http.Request) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d", req.Method, req.URL, resp.StatusCode)
	}
	return nil
}
