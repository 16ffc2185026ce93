package main

import (
	"os"
	"testing"

	"github.com/stopcoord/stopcoord/local/testbed"
)

// binDir holds the bootstraps the integration tests build once.
var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "stop-api-test-"); err != nil {
		panic(err)
	}
	code := testbed.RunTests(m)
	os.RemoveAll(binDir)
	os.Exit(code)
}
