package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/settings"
)

type sweepFunc func() (coordinator.SweepReport, error)

func (f sweepFunc) Sweep(context.Context) (coordinator.SweepReport, error) { return f() }

func TestScheduledEventRunsOneSweep(t *testing.T) {
	raw, err := samples.FS.ReadFile("eventbridge/scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		report  coordinator.SweepReport
		err     error
		wantErr bool
	}{
		{"a run reports what it did", coordinator.SweepReport{Executions: 100, Calls: 200, Reconciled: 3, PassComplete: true}, nil, false},
		{"a failed run is an error", coordinator.SweepReport{}, errors.New("ledger unavailable"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs := 0
			h := &handler{sweeper: sweepFunc(func() (coordinator.SweepReport, error) { runs++; return tt.report, tt.err })}
			out, err := lambda.NewHandler(h.handle).Invoke(context.Background(), raw)
			if (err != nil) != tt.wantErr || runs != 1 {
				t.Fatalf("invoke: err %v after %d runs, want error %v after 1", err, runs, tt.wantErr)
			}
			if tt.wantErr {
				return
			}
			var got coordinator.SweepReport
			if err := json.Unmarshal(out, &got); err != nil || got != tt.report {
				t.Fatalf("result %s (%v), want %+v", out, err, tt.report)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	_, err := loadConfig(settings.FromMap(map[string]string{settings.SweepBatch: "0", settings.SweepMaxCalls: "x", settings.Policies: `{"policies":[{}]}`}))
	for _, want := range []string{settings.TableName, settings.SweepBatch, settings.SweepMaxCalls, settings.AllowedAccounts, "policies[0].pipelines"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("loadConfig error %v lacks %s", err, want)
		}
	}
	cfg, err := loadConfig(settings.FromMap(map[string]string{settings.TableName: "t", settings.AllowedAccounts: "123456789012", settings.SweepBatch: "50"}))
	if err != nil || cfg.limits.Executions != 50 || cfg.limits.Calls != 200 {
		t.Fatalf("loadConfig = %+v, %v; want 50 executions and 200 calls a run", cfg, err)
	}
}
