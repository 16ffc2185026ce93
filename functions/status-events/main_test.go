package main

import (
	"os"
	"testing"

	"github.com/stopcoord/stopcoord/local/testbed"
)

// binDir holds the bootstrap the integration tests build once.
var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "status-events-test-"); err != nil {
		panic(err)
	}
	code := testbed.RunTests(m)
	os.RemoveAll(binDir)
	os.Exit(code)
}
