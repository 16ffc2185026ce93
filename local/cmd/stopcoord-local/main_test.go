package main

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	exe, err := os.Executable() // any executable file stands for a bootstrap
	if err != nil {
		t.Fatal(err)
	}
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:score"
	c, err := parseFlags([]string{
		"-lambda", arn + "=" + exe, "-lambda", arn + "-url=http://127.0.0.1:9/score",
		"-fault", "*:throttle=0.2,5xx=0.2", "-duplicate-events", "0.3", "-reorder-events", "0.3", "-drop-stopping", "0.1",
		"-seed", "7", "-time-scale", "0.5", "-job-duration", "5s",
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.cfg.Lambdas) != 2 || c.cfg.Lambdas[0].Bootstrap != exe || c.cfg.Lambdas[1].URL != "http://127.0.0.1:9/score" {
		t.Errorf("lambdas %+v", c.cfg.Lambdas)
	}
	o := c.cfg.EmulatorOptions
	if f := o.Faults["*"]; f.ThrottleRate != 0.2 || f.ServerErrorRate != 0.2 {
		t.Errorf("faults %+v", o.Faults)
	}
	if o.Switches.DuplicateEvents != 0.3 || o.Switches.ReorderEvents != 0.3 || o.Switches.DropStoppingMessage != 0.1 || o.Seed != 7 ||
		o.TimeScale != 0.5 || o.JobDuration != 5*time.Second {
		t.Errorf("emulator options %+v", o)
	}
	if c.cfg.FunctionLogs == nil {
		t.Error("function logs are off by default")
	}

	c, err = parseFlags([]string{"-function-logs=false", "-invoke", "stop-api", "-event", "events/apigw/stop.json"}, io.Discard)
	if err != nil || c.cfg.FunctionLogs == nil {
		t.Errorf("-invoke must always show the function's logs: %+v, %v", c, err)
	}
	c, err = parseFlags([]string{"-function-logs=false"}, io.Discard)
	if err != nil || c.cfg.FunctionLogs != nil {
		t.Errorf("-function-logs=false: %+v, %v", c, err)
	}

	for _, bad := range []struct{ args []string }{
		{[]string{"-lambda", "score"}},
		{[]string{"-lambda", arn + "=./missing"}},
		{[]string{"-fault", "*:boom=1"}},
		{[]string{"-invoke", "stop-api"}},
		{[]string{"stray"}},
	} {
		if _, err := parseFlags(bad.args, io.Discard); err == nil {
			t.Errorf("%v: no error", bad.args)
		} else if strings.TrimSpace(err.Error()) == "" {
			t.Errorf("%v: empty error", bad.args)
		}
	}
}
