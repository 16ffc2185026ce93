package emulator_test

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

func TestAddFlags(t *testing.T) {
	parse := func(args ...string) (emulator.Options, error) {
		var o emulator.Options
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		o.AddFlags(fs)
		return o, fs.Parse(args)
	}
	o, err := parse()
	if err != nil || o.TimeScale != 1 || o.Switches.StatusKey != "status" || o.Seed != 1 || o.JobDuration != 2*time.Second || len(o.Faults) != 0 {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	o, err = parse("-fault", "*:throttle=0.2,5xx=0.2", "-fault", "StopPipelineExecution:latency=20ms",
		"-duplicate-events", "0.5", "-reorder-events", "0.25", "-drop-stopping", "1", "-new-stopping-token", "-seed", "42")
	if err != nil {
		t.Fatal(err)
	}
	if f := o.Faults["*"]; f.ThrottleRate != 0.2 || f.ServerErrorRate != 0.2 {
		t.Errorf("fault * = %+v", f)
	}
	if f := o.Faults["StopPipelineExecution"]; f.Latency != 20*time.Millisecond {
		t.Errorf("fault StopPipelineExecution = %+v", f)
	}
	sw := o.Switches
	if sw.DuplicateEvents != 0.5 || sw.ReorderEvents != 0.25 || sw.DropStoppingMessage != 1 || !sw.NewStoppingToken || o.Seed != 42 {
		t.Errorf("switches %+v seed %d", sw, o.Seed)
	}
	for _, bad := range [][]string{{"-fault", "X:boom=1"}, {"-fault", "noop"}, {"-fault", "X:throttle=lots"}} {
		if _, err := parse(bad...); err == nil || !strings.Contains(err.Error(), "fault") {
			t.Errorf("%v: err = %v, want a fault error", bad, err)
		}
	}
}
