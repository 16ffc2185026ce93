package main

import (
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/logging"
)

func TestMain(m *testing.M) {
	// The handler logs every message, as in production, but to nowhere:
	// the benchmarks then count the logging too, and test output stays
	// readable.
	slog.SetDefault(logging.NewTo(io.Discard, slog.LevelInfo))
	os.Exit(testbed.RunTests(m))
}
