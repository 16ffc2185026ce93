package coordinator_test

import (
	"fmt"
	"testing"
	"time"

	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TestStuckStopsListsOpenStopsWithWhatBlocksThem: graceful stops of
// executions waiting on a callback step stay open (nothing answers the
// Stopping message here); the listing pages through them oldest first,
// says what blocks each, and leaves out a stop that closed.
func TestStuckStopsListsOpenStopsWithWhatBlocksThem(t *testing.T) {
	w := newWorld(t)
	pipe := w.CreatePipeline(definition(callbackStep("Wait", w.CallbackQueue)))
	var stops []string
	var arns []string
	for i := range 3 {
		arn := w.Start(pipe)
		w.WaitStep(arn, "Wait", smtypes.StepStatusExecuting)
		res, err := w.coord.Stop(w.Ctx, coordinator.StopInput{ExecutionARN: arn, Key: fmt.Sprint("k", i), RequestedBy: "arn:aws:iam::123456789012:user/ops"})
		if err != nil {
			t.Fatal(err)
		}
		stops, arns = append(stops, res.Stop.ID), append(arns, arn)
	}
	// The third closes, as the status-events function does when its
	// execution ends.
	third := mustARN(t, arns[2])
	if _, err := w.Ledger.CloseStop(w.Ctx, third, stops[2], pipeline.ExecutionStopped, time.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}

	var got []coordinator.StuckStop
	cursor := ""
	for page := 0; ; page++ {
		res, err := w.coord.StuckStops(w.Ctx, coordinator.StuckStopsInput{Limit: 1, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Stops...)
		if cursor = res.Cursor; cursor == "" {
			break
		}
		if page > 5 {
			t.Fatal("the listing does not end")
		}
	}
	if len(got) != 2 || got[0].Stop.ID != stops[0] || got[1].Stop.ID != stops[1] {
		t.Fatalf("stuck stops %+v, want %s and %s, oldest first", got, stops[0], stops[1])
	}
	for _, s := range got {
		if s.Execution == nil || s.ViewError != "" {
			t.Fatalf("stop %s: no view (%s)", s.Stop.ID, s.ViewError)
		}
		open := s.Execution.Blocking.OpenCallbacks
		if s.Execution.Status != pipeline.ExecutionStopping || len(open) != 1 || open[0].StepName != "Wait" || s.OpenFor <= 0 {
			t.Fatalf("stop %s: %s, blocked by %+v, open for %s; want Stopping, blocked by Wait", s.Stop.ID, s.Execution.Status, open, s.OpenFor)
		}
	}

	// A threshold longer than any stop has been open lists none.
	res, err := w.coord.StuckStops(w.Ctx, coordinator.StuckStopsInput{OpenLongerThan: time.Hour})
	if err != nil || len(res.Stops) != 0 || res.Cursor != "" {
		t.Fatalf("open over an hour: %+v, %v; want none", res, err)
	}
	// Bad input is invalid.
	for _, in := range []coordinator.StuckStopsInput{{OpenLongerThan: -time.Second}, {OpenLongerThan: 31 * 24 * time.Hour}, {Limit: 51}, {Limit: -1}, {Cursor: "nope"}} {
		if _, err := w.coord.StuckStops(w.Ctx, in); pipeline.Code(err) != pipeline.EInvalid {
			t.Errorf("%+v: err %v, want invalid", in, err)
		}
	}
}
