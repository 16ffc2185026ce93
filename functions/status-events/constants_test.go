package main

import (
	"testing"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TestEventStringsAgreeWithTheEmulator holds the one set of EventBridge
// strings (shared/pipeline, used here and by infra's rules) to what the
// SageMaker emulator sends, which keeps its own copy to stay an island.
func TestEventStringsAgreeWithTheEmulator(t *testing.T) {
	for _, c := range []struct{ ours, emulators string }{
		{pipeline.SourceSageMaker, emulator.EventSource},
		{pipeline.DetailExecutionStatus, emulator.DetailTypeExecution},
		{pipeline.DetailStepStatus, emulator.DetailTypeExecutionStep},
	} {
		if c.ours != c.emulators {
			t.Errorf("stopcoord says %q, the emulator sends %q", c.ours, c.emulators)
		}
	}
}
