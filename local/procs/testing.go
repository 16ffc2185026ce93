package procs

import (
	"context"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI, where a missing tool is a
// failure rather than a reason to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireTool returns the path of an executable, or skips the test with the
// install hint (fails it in CI) when it is not on PATH.
func RequireTool(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name+" not found on PATH: "+hint)
	}
	return path
}

// Missing skips the test with the reason, or fails it when CI=true.
func Missing(t testing.TB, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("CI=true and a required tool is missing: %s", reason)
		return
	}
	t.Skip(reason)
}

// StartT starts the server for a test and stops it in t.Cleanup.
func StartT(t testing.TB, spec Spec) *Process {
	t.Helper()
	p, err := Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return p
}
