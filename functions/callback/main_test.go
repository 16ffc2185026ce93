package main

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/logging"
)

// binDir holds the bootstraps the integration test builds once.
var binDir string

func TestMain(m *testing.M) {
	// The handler logs every message, as in production, but to nowhere:
	// the benchmarks then count the logging too, and test output stays
	// readable.
	slog.SetDefault(logging.NewTo(io.Discard, slog.LevelInfo))
	var err error
	if binDir, err = os.MkdirTemp("", "callback-test-"); err != nil {
		panic(err)
	}
	code := testbed.RunTests(m)
	os.RemoveAll(binDir)
	os.Exit(code)
}
