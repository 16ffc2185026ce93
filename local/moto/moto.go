// Package moto runs moto_server, the local stand-in for SQS, EventBridge and
// the services the cleaners call, on a free 127.0.0.1 port.
package moto

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
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
	p, err := procs.Start(ctx, procs.Spec{
		Name:  "moto_server",
		Path:  path,
		Args:  []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port)},
		Ready: func(ctx context.Context) error { return get(ctx, url+"/moto-api/") },
	})
	if err != nil {
		return nil, err
	}
	return &Server{URL: url, proc: p}, nil
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
