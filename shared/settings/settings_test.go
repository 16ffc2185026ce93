package settings_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/shared/settings"
)

func TestEnvReportsEveryProblemAtOnce(t *testing.T) {
	env := settings.FromMap(map[string]string{
		settings.MaxBodyBytes: "lots",
		settings.Retention:    "-1h",
	})
	env.String(settings.TableName)
	if got := env.Int(settings.MaxBodyBytes, 65536, 1024, 1<<20); got != 65536 {
		t.Errorf("bad int: got %d, want the fallback", got)
	}
	env.Duration(settings.Retention, time.Hour, time.Hour, 365*24*time.Hour)
	err := env.Err()
	if err == nil {
		t.Fatal("no error for three bad variables")
	}
	for _, want := range []string{settings.TableName + " is required", settings.MaxBodyBytes + `="lots"`, settings.Retention + `="-1h"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestEnvValues(t *testing.T) {
	env := settings.FromMap(map[string]string{
		settings.TableName:        " ledger ",
		settings.MaxBodyBytes:     "2048",
		settings.AllowedPipelines: "train-*, ,etl",
		settings.Retention:        "72h",
	})
	if got := env.String(settings.TableName); got != "ledger" {
		t.Errorf("String = %q", got)
	}
	if got := env.Int(settings.MaxBodyBytes, 1, 1024, 4096); got != 2048 {
		t.Errorf("Int = %d", got)
	}
	if got := env.List(settings.AllowedPipelines); len(got) != 2 || got[0] != "train-*" || got[1] != "etl" {
		t.Errorf("List = %q", got)
	}
	if got := env.Duration(settings.Retention, time.Hour, time.Hour, 1000*time.Hour); got != 72*time.Hour {
		t.Errorf("Duration = %s", got)
	}
	if got := env.Optional(settings.StopQueueURL, "none"); got != "none" {
		t.Errorf("Optional fallback = %q", got)
	}
	if err := env.Err(); err != nil {
		t.Fatal(err)
	}
}
