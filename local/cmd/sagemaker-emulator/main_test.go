package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

func TestParseConfig(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(t *testing.T, c *config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c *config) {
			if c.addr != "127.0.0.1:0" || c.opts.Switches.StatusKey != "status" || c.opts.TimeScale != 1 {
				t.Errorf("defaults %+v", c)
			}
		}},
		{name: "flags", args: []string{"-addr", "127.0.0.1:9", "-lambda", "*=http://127.0.0.1:1", "-lambda-rie", "arn:fn=http://127.0.0.1:2",
			"-fault", "StopPipelineExecution:throttle=0.5,latency=20ms", "-new-stopping-token", "-time-scale", "0.01",
			"-retry-reruns-all", "-retry-keeps-callback-token", "-list-every-attempt", "-version-on-definition-change", "-max-versions", "3"},
			check: func(t *testing.T, c *config) {
				if c.addr != "127.0.0.1:9" || !c.opts.Switches.NewStoppingToken || c.opts.TimeScale != 0.01 {
					t.Errorf("config %+v", c)
				}
				sw := c.opts.Switches
				if !sw.RetryRerunsAll || !sw.RetryKeepsCallbackToken || !sw.ListEveryAttempt || !sw.VersionOnDefinitionChange || c.opts.MaxPipelineVersions != 3 {
					t.Errorf("retry and version switches %+v, max versions %d", sw, c.opts.MaxPipelineVersions)
				}
				if c.opts.Lambda["*"] != (emulator.LambdaEndpoint{URL: "http://127.0.0.1:1"}) || !c.opts.Lambda["arn:fn"].RIE {
					t.Errorf("lambda %+v", c.opts.Lambda)
				}
				if f := c.opts.Faults["StopPipelineExecution"]; f.ThrottleRate != 0.5 || f.Latency != 20*time.Millisecond {
					t.Errorf("fault %+v", f)
				}
			}},
		{name: "env, overridden by a flag", args: []string{"-status-key", "status"},
			env: map[string]string{"SAGEMAKER_EMULATOR_STATUS_KEY": "Status", "SAGEMAKER_EMULATOR_SQS_ENDPOINT": "http://127.0.0.1:5055",
				"SAGEMAKER_EMULATOR_FAULT": "*:5xx=0.1;ListPipelines:throttle=1"},
			check: func(t *testing.T, c *config) {
				if c.opts.Switches.StatusKey != "status" || c.opts.SQSEndpoint != "http://127.0.0.1:5055" || len(c.opts.Faults) != 2 {
					t.Errorf("config %+v", c.opts)
				}
			}},
		{name: "bad fault", args: []string{"-fault", "X:boom=1"}, wantErr: "unknown fault"},
		{name: "bad lambda", args: []string{"-lambda", "nourl"}, wantErr: "ARN=URL"},
		{name: "bad env", env: map[string]string{"SAGEMAKER_EMULATOR_TIME_SCALE": "fast"}, wantErr: "SAGEMAKER_EMULATOR_TIME_SCALE"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseConfig(tc.args, func(k string) string { return tc.env[k] }, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestHelpListsEnvironment(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, io.Discard, &out); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"SAGEMAKER_EMULATOR_", "-drop-stopping", "-lambda-rie", "-fault"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

// TestRunServesUntilCancelled runs the command in-process: it prints the URL
// first, serves the SDK, and exits 0 on cancellation.
func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"-time-scale", "0.001"}, func(string) string { return "" }, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("first line %q, want listening on <url>", line)
	}
	cfg, _ := localaws.Config(ctx)
	sm := sagemaker.NewFromConfig(cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(url) })
	if _, err := sm.ListPipelines(ctx, &sagemaker.ListPipelinesInput{}); err != nil {
		t.Fatal(err)
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if code := <-done; code != 0 {
		t.Errorf("exit code %d, want 0", code)
	}
}
