package main

import (
	"os"
	"testing"

	"github.com/stopcoord/stopcoord/local/testbed"
)

func TestMain(m *testing.M) { os.Exit(testbed.RunTests(m)) }
