package coordinator_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TestViewShowsEachAttemptOfARetriedExecution: the statuses the ledger
// recorded for an execution that was stopped, retried and then failed are
// two attempts, in event order; a late, stale status changes nothing.
func TestViewShowsEachAttemptOfARetriedExecution(t *testing.T) {
	w := newWorld(t)
	arn := mustARN(t, "arn:aws:sagemaker:us-east-1:123456789012:pipeline/retried/execution/attempts0001")
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		status pipeline.ExecutionStatus
		at     time.Duration
	}{
		{pipeline.ExecutionExecuting, 0},
		{pipeline.ExecutionStopping, time.Minute},
		{pipeline.ExecutionStopped, 2 * time.Minute},
		{pipeline.ExecutionExecuting, 10 * time.Minute}, // RetryPipelineExecution
		{pipeline.ExecutionStopping, 90 * time.Second},  // stale: belongs to the first attempt
		{pipeline.ExecutionFailed, 12 * time.Minute},
	} {
		// Rejections (the stale one) are the ledger's business; the view
		// must show only what was applied.
		w.Ledger.RecordExecutionStatus(w.Ctx, pipeline.ExecutionChange{ARN: arn, Status: c.status, At: t0.Add(c.at), StartedAt: t0})
	}
	v, err := w.coord.ViewExecution(w.Ctx, arn.String())
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	want := []coordinator.Attempt{
		{Number: 1, Status: pipeline.ExecutionStopped, StartedAt: at(0), StoppingAt: at(time.Minute), EndedAt: at(2 * time.Minute)},
		{Number: 2, Status: pipeline.ExecutionFailed, StartedAt: at(10 * time.Minute), EndedAt: at(12 * time.Minute)},
	}
	if fmt.Sprint(attemptStrings(v.Attempts)) != fmt.Sprint(attemptStrings(want)) {
		t.Fatalf("attempts\n got %v\nwant %v", attemptStrings(v.Attempts), attemptStrings(want))
	}
}

// TestViewOrdersAnAttemptsSameSecondStatusesByProgress: status events
// carry whole seconds, while stopcoord records Stopping on its own clock
// (and the sweeper SageMaker's times) in milliseconds, so an end the event
// reports as 12:00:40 reads earlier than the Stopping stopcoord recorded at
// 12:00:40.742 of the same attempt. Within a second the statuses are
// ordered by how far along they are: one attempt, not an attempt that
// ended before it was stopped and a second one that never started. And
// only a retry's Executing starts an attempt: a Stopping recorded after
// SageMaker's end, in the next second, is still the ended attempt's.
func TestViewOrdersAnAttemptsSameSecondStatusesByProgress(t *testing.T) {
	w := newWorld(t)
	arn := mustARN(t, "arn:aws:sagemaker:us-east-1:123456789012:pipeline/retried/execution/attempts0002")
	t0 := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, c := range []struct {
		status pipeline.ExecutionStatus
		at     time.Duration
	}{
		{pipeline.ExecutionExecuting, 442 * ms},              // the sweeper, from CreationTime
		{pipeline.ExecutionStopping, 742 * ms},               // Service.Stop, on stopcoord's clock
		{pipeline.ExecutionStopped, 0},                       // the event: whole seconds
		{pipeline.ExecutionExecuting, 2 * time.Second},       // RetryPipelineExecution's event
		{pipeline.ExecutionStopping, 4*time.Second + 310*ms}, // the second stop
		{pipeline.ExecutionStopped, 4 * time.Second},         // its event
		{pipeline.ExecutionExecuting, 6 * time.Second},       // retried again
		// On a busy machine stopcoord's clock reads past SageMaker's end
		// when it records the Stopping, here into the next second.
		{pipeline.ExecutionStopping, 9*time.Second + 50*ms},
		{pipeline.ExecutionStopped, 8*time.Second + 950*ms}, // the sweeper: SageMaker's time
	} {
		if _, err := w.Ledger.RecordExecutionStatus(w.Ctx, pipeline.ExecutionChange{ARN: arn, Status: c.status, At: t0.Add(c.at), StartedAt: t0.Add(442 * ms)}); err != nil {
			t.Fatalf("record %s: %v", c.status, err)
		}
	}
	v, err := w.coord.ViewExecution(w.Ctx, arn.String())
	if err != nil {
		t.Fatal(err)
	}
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	want := []coordinator.Attempt{
		// A whole-second end before its own Stopping is shown at that
		// Stopping: the end was no earlier, and the timeline never runs
		// backwards.
		{Number: 1, Status: pipeline.ExecutionStopped, StartedAt: at(442 * ms), StoppingAt: at(742 * ms), EndedAt: at(742 * ms)},
		{Number: 2, Status: pipeline.ExecutionStopped, StartedAt: at(2 * time.Second), StoppingAt: at(4*time.Second + 310*ms), EndedAt: at(4*time.Second + 310*ms)},
		{Number: 3, Status: pipeline.ExecutionStopped, StartedAt: at(6 * time.Second), StoppingAt: at(9*time.Second + 50*ms), EndedAt: at(8*time.Second + 950*ms)},
	}
	if fmt.Sprint(attemptStrings(v.Attempts)) != fmt.Sprint(attemptStrings(want)) {
		t.Fatalf("attempts\n got %v\nwant %v", attemptStrings(v.Attempts), attemptStrings(want))
	}
}

func attemptStrings(as []coordinator.Attempt) []string {
	var out []string
	str := func(t *time.Time) string {
		if t == nil {
			return "-"
		}
		return t.UTC().Format("15:04:05.000")
	}
	for _, a := range as {
		out = append(out, fmt.Sprintf("#%d %s %s..%s (stopping %s)", a.Number, a.Status, str(a.StartedAt), str(a.EndedAt), str(a.StoppingAt)))
	}
	return out
}

// TestViewExecutionRunShowsParametersAndVersion: an execution shows the
// parameters it resolved (given ones and defaults) and the pipeline version
// it ran, also after UpdatePipeline made a newer one.
func TestViewExecutionRunShowsParametersAndVersion(t *testing.T) {
	w := newWorld(t)
	def := func(epochs int) string {
		return fmt.Sprintf(`{"Version":"2020-12-01","Parameters":[{"Name":"Epochs","Type":"Integer","DefaultValue":%d},{"Name":"Mode","Type":"String","DefaultValue":"fast"}],"Steps":[%s]}`, epochs, trainingStep("Train"))
	}
	name := w.CreatePipeline(def(3))
	start := func(token string, params ...smtypes.Parameter) string {
		out, err := w.SageMaker.StartPipelineExecution(w.Ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(name),
			ClientRequestToken: aws.String(token + "-0123456789abcdef0123456789abcdef"), PipelineParameters: params})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.PipelineExecutionArn)
	}
	first := start("first", smtypes.Parameter{Name: aws.String("Mode"), Value: aws.String("thorough")})
	if _, err := w.SageMaker.UpdatePipeline(w.Ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(name), PipelineDefinition: aws.String(def(5))}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.SageMaker.UpdatePipelineVersion(w.Ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String("arn:aws:sagemaker:us-east-1:123456789012:pipeline/" + name),
		PipelineVersionId: aws.Int64(2), PipelineVersionDisplayName: aws.String("more-epochs")}); err != nil {
		t.Fatal(err)
	}
	second := start("second")

	for _, tc := range []struct {
		arn         string
		version     int64
		displayName string
		params      string
	}{
		{first, 1, "", "[{Epochs 3} {Mode thorough}]"},
		{second, 2, "more-epochs", "[{Epochs 5} {Mode fast}]"},
	} {
		v, err := w.coord.ViewExecutionRun(w.Ctx, tc.arn)
		if err != nil {
			t.Fatal(err)
		}
		if v.PipelineVersion == nil || v.PipelineVersion.ID != tc.version || v.PipelineVersion.DisplayName != tc.displayName {
			t.Errorf("%s: version %+v, want %d %q", tc.arn, v.PipelineVersion, tc.version, tc.displayName)
		}
		if got := fmt.Sprint(sortedParams(v.Parameters)); got != tc.params {
			t.Errorf("%s: parameters %s, want %s", tc.arn, got, tc.params)
		}
		if len(v.Attempts) != 1 || v.Attempts[0].Number != 1 || v.Attempts[0].StartedAt == nil {
			t.Errorf("%s: attempts %+v, want the one running", tc.arn, v.Attempts)
		}
	}

	// The stop waiter's view costs no parameter calls.
	if v, err := w.coord.ViewExecution(w.Ctx, first); err != nil || v.Parameters != nil {
		t.Fatalf("ViewExecution: parameters %v, err %v; want none read", v.Parameters, err)
	}
	// An execution that does not exist is not found.
	if _, err := w.coord.ViewExecutionRun(w.Ctx, "arn:aws:sagemaker:us-east-1:123456789012:pipeline/"+name+"/execution/zzzzzzzzzzzz"); pipeline.Code(err) != pipeline.ENotFound {
		t.Fatalf("unknown execution: %v, want not_found", err)
	}
}

func sortedParams(ps []coordinator.Parameter) []coordinator.Parameter {
	out := append([]coordinator.Parameter(nil), ps...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Name < out[i].Name {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
