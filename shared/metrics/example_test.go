package metrics_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/stopcoord/stopcoord/shared/metrics"
	"github.com/stopcoord/stopcoord/shared/metrics/metricstest"
)

// A closed stop is one EMF line; CloudWatch reads four data points from
// it: the count and the latency, each for the deployment alone and broken
// down by trigger (and outcome).
func ExampleEMF_StopClosed() {
	var log bytes.Buffer
	rec := metrics.NewEMF(&log, "StopCoord-dev")
	rec.StopClosed(context.Background(), metrics.TriggerAPI, "Stopped", 1200*time.Millisecond)

	points, _ := metricstest.Parse(log.Bytes())
	for _, p := range points {
		fmt.Println(p.Name, p.Value, p.Unit, len(p.Dims), "dimensions")
	}
	// Output:
	// StopsClosed 1 Count 1 dimensions
	// StopsClosed 1 Count 3 dimensions
	// StopLatency 1200 Milliseconds 1 dimensions
	// StopLatency 1200 Milliseconds 2 dimensions
}
