package stopevents_test

import (
	"fmt"
	"time"

	"github.com/stopcoord/stopcoord/shared/stopevents"
)

func ExampleEntry() {
	requested := time.Date(2026, 11, 25, 12, 30, 0, 0, time.UTC)
	e, _ := stopevents.Entry(stopevents.StopCompleted{
		Deployment: "StopCoord", StopID: "stop-1", ExecutionARN: "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e",
		PipelineName: "p", Trigger: "api", Mode: "graceful", Outcome: "Stopped",
		RequestedAt: requested, ClosedAt: requested.Add(2 * time.Second), LatencyMillis: 2000,
	})
	fmt.Println(*e.Source, "/", *e.DetailType)
	fmt.Println(*e.Detail)
	// Output:
	// stopcoord / Stop Completed
	// {"deployment":"StopCoord","stopId":"stop-1","pipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/e","pipelineName":"p","trigger":"api","mode":"graceful","outcome":"Stopped","requestedAt":"2026-11-25T12:30:00Z","closedAt":"2026-11-25T12:30:02Z","latencyMs":2000,"cleanups":[]}
}
