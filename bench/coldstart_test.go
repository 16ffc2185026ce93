// Package bench holds the measurements that span the built functions.
package bench_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/local/apigw"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// initReport is the line aws-lambda-rie logs when a function's init phase
// ends: the same figure Lambda reports as Init Duration.
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// BenchmarkColdInit starts each bootstrap under a fresh aws-lambda-rie for
// every iteration, invokes it once and reports the init duration RIE logs
// (median over the iterations) and the time to the first response. The
// hello-world bootstrap is the baseline: stopcoord's budget is 2x its init.
func BenchmarkColdInit(b *testing.B) {
	dir := b.TempDir()
	env := append(localaws.Env(),
		settings.TableName+"=ledger", settings.StopQueueURL+"=http://127.0.0.1:1/q", settings.AllowedAccounts+"=123456789012",
		settings.CallbackQueueURL+"=http://127.0.0.1:1/cb",
		"AWS_ENDPOINT_URL=http://127.0.0.1:1") // init makes no AWS call; nothing may reach out
	for _, fn := range []struct{ name, pkg string }{
		{"hello", "./testdata/hello"},
		{"stop-api", "../functions/stop-api"},
		{"stop-queue", "../functions/stop-queue"},
		{"callback", "../functions/callback"},
		{"status-events", "../functions/status-events"},
		{"sweeper", "../functions/sweeper"},
	} {
		bin := filepath.Join(dir, fn.name, "bootstrap")
		if err := rie.Build(fn.pkg, bin); err != nil {
			b.Fatal(err)
		}
		info, err := os.Stat(bin)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fn.name, func(b *testing.B) {
			var inits, firsts []float64
			for i := 0; i < b.N; i++ {
				f := rie.StartT(b, rie.Spec{Bootstrap: bin, Name: fn.name, Env: env})
				start := time.Now()
				// An API Gateway event: the stop API answers an unknown route,
				// and the others get an event that is not theirs, all without
				// any AWS call. Only the init and the round trip matter here.
				// A function error is fine (the sweeper refuses an event that is
				// not its schedule's); a dead runtime is not.
				var fe *rie.FunctionError
				if _, err := f.Invoke(context.Background(), apigw.Marshal(apigw.Request{Method: "GET", Path: "/none"})); err != nil && !errors.As(err, &fe) {
					b.Fatalf("%s: %v\n%s", fn.name, err, f.Output())
				}
				firsts = append(firsts, float64(time.Since(start).Microseconds())/1000)
				m := initReport.FindStringSubmatch(f.Output())
				if m == nil {
					b.Fatalf("no INIT REPORT in the output of %s:\n%s", fn.name, f.Output())
				}
				ms, _ := strconv.ParseFloat(m[1], 64)
				inits = append(inits, ms)
				f.Stop()
			}
			b.ReportMetric(median(inits), "init-ms")
			b.ReportMetric(median(firsts), "first-response-ms")
			b.ReportMetric(float64(info.Size())/1e6, "binary-MB")
		})
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
