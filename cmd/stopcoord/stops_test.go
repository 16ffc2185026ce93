package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/client"
	"github.com/stopcoord/stopcoord/local/stack"
)

// openStopsJSON runs `stopcoord stops ... -o json` and decodes it.
func openStopsJSON(t *testing.T, s *stack.Stack, args ...string) (int, openStops) {
	t.Helper()
	code, stdout, stderr := runCLI(t, s, append([]string{"stops", "-o", "json"}, args...)...)
	var out openStops
	if code != exitOK && code != exitStuck || json.Unmarshal([]byte(stdout), &out) != nil {
		t.Fatalf("stops %v -o json: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	return code, out
}

func findStop(all openStops, id string) *client.OpenStop {
	for i := range all.Stops {
		if all.Stops[i].Stop.ID == id {
			return &all.Stops[i]
		}
	}
	return nil
}

// TestStopsStuck: a stop waiting on a Lambda step that does not end is
// listed by `stopcoord stops --stuck` once it has been open longer than
// the threshold, with the Lambda step as what it waits for, and the exit
// code says a stop is stuck; once the step ends and the execution stops,
// the stop is no longer listed.
func TestStopsStuck(t *testing.T) {
	s, lambdas := localStack(t)
	release := make(chan struct{})
	released := false
	releaseOnce := func() {
		if !released {
			released = true
			close(release)
		}
	}
	t.Cleanup(releaseOnce)
	lambdas.set("hangs-until-released", func(ctx context.Context, _ map[string]any) string {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return `{}`
	})
	arn := startPipeline(t, s, "cli-stuck", lambdaStep("Hang", "hangs-until-released", 600))
	code, stdout, stderr := runCLI(t, s, "stop", shortName(arn), "--reason", "stuck test", "-o", "json")
	var started client.StopExecutionOutput
	if code != exitOK || json.Unmarshal([]byte(stdout), &started) != nil || started.Stop.ID == "" {
		t.Fatalf("stop: exit %d\n%s\n%s", code, stdout, stderr)
	}
	id := started.Stop.ID

	// Open longer than a second: listed, blocked by the Lambda step.
	var listed *client.OpenStop
	eventually(t, "the stop listed as stuck", func() bool {
		code, all := openStopsJSON(t, s, "--stuck", "--older-than", "1s")
		listed = findStop(all, id)
		if listed != nil && code != exitStuck {
			t.Fatalf("a stuck stop is listed but the exit code is %d, want %d", code, exitStuck)
		}
		return listed != nil && listed.Execution != nil && len(listed.Execution.Blocking.RunningLambdas) == 1
	})
	if listed.Execution.Blocking.RunningLambdas[0].StepName != "Hang" || listed.Trigger != "api" || listed.Stop.Mode != client.ModeGraceful || listed.OpenFor() < 1 {
		t.Fatalf("listed stop %+v, want one waiting on the Lambda step Hang, asked through the API", listed)
	}

	// The human table.
	code, stdout, _ = runCLI(t, s, "stops", "--stuck", "--older-than", "1s")
	t.Logf("stopcoord stops --stuck --older-than 1s:\n%s", stdout)
	for _, want := range []string{"EXECUTION", "OPEN SINCE", "WAITING FOR", shortName(arn), id, "api", "graceful", "Lambda Hang (ends by"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if code != exitStuck {
		t.Errorf("stops --stuck exit %d, want %d", code, exitStuck)
	}

	// Not open long enough for a longer threshold.
	code, all := openStopsJSON(t, s, "--stuck", "--older-than", "700h")
	if findStop(all, id) != nil || (code == exitStuck) != (len(all.Stops) > 0) {
		t.Fatalf("threshold 700h: exit %d, %d stops listed (ours among them: %v)", code, len(all.Stops), findStop(all, id) != nil)
	}

	// The step ends, the execution stops and the stop closes: no longer listed.
	releaseOnce()
	eventually(t, "the execution stopped", func() bool { return describe(t, s.SageMakerClient(), arn) == smtypes.PipelineExecutionStatusStopped })
	eventually(t, "the stop no longer listed", func() bool {
		code, all := openStopsJSON(t, s, "--stuck", "--older-than", "1s")
		if (code == exitStuck) != (len(all.Stops) > 0) {
			t.Fatalf("exit %d with %d stuck stops: the exit code must say whether any is stuck", code, len(all.Stops))
		}
		return findStop(all, id) == nil
	})
}

// TestStatusShowsAttemptsParametersAndVersion (issue 15): an execution
// stopped, retried with RetryPipelineExecution and stopped again shows two
// attempts, both Stopped, and both stops closed; the view shows the
// parameters it ran with, defaults included, and its pipeline version,
// which a later execution after UpdatePipeline does not share.
func TestStatusShowsAttemptsParametersAndVersion(t *testing.T) {
	s, _ := localStack(t)
	ctx := context.Background()
	sm := s.SageMakerClient()
	name := fmt.Sprintf("cli-retry-%d", pipelineSeq.Add(1))
	def := func(epochs int) string {
		return fmt.Sprintf(`{"Version":"2020-12-01","Parameters":[{"Name":"Epochs","Type":"Integer","DefaultValue":%d},{"Name":"Mode","Type":"String","DefaultValue":"fast"}],"Steps":[%s]}`,
			epochs, callbackStep(s, "Wait"))
	}
	if _, err := sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String(name), PipelineDefinition: aws.String(def(3)),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/pipeline"), ClientRequestToken: aws.String(name + "-create-token-0123456789abcdef")}); err != nil {
		t.Fatal(err)
	}
	start := func(token string, params ...smtypes.Parameter) string {
		out, err := sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(name),
			ClientRequestToken: aws.String(name + "-" + token + "-0123456789abcdefghij"), PipelineParameters: params})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.PipelineExecutionArn)
	}
	waitRunning := func(arn string) {
		eventually(t, "the callback step of "+arn+" running", func() bool {
			steps, err := sm.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
			return err == nil && len(steps.PipelineExecutionSteps) > 0 && steps.PipelineExecutionSteps[0].StepStatus == smtypes.StepStatusExecuting
		})
	}
	status := func(arn string) client.Execution {
		code, stdout, stderr := runCLI(t, s, "status", "-o", "json", shortName(arn))
		var v client.Execution
		if code != exitOK || json.Unmarshal([]byte(stdout), &v) != nil {
			t.Fatalf("status: exit %d\n%s\n%s", code, stdout, stderr)
		}
		return v
	}
	stopAndWait := func(arn string) {
		t.Helper()
		if code, stdout, stderr := runCLI(t, s, "stop", shortName(arn), "--wait", "--poll-min", "100ms", "--poll-max", "300ms"); code != exitOK {
			t.Fatalf("stop --wait: exit %d\n%s\n%s", code, stdout, stderr)
		}
	}

	arn := start("first", smtypes.Parameter{Name: aws.String("Mode"), Value: aws.String("thorough")})
	waitRunning(arn)
	stopAndWait(arn)
	// Retry once the ledger has the first attempt's end and its stop
	// closed, and in a later second than that end: events carry times in
	// whole seconds, and a retry's Executing is ordered after the end only
	// when its second is later (a same-second retry is not seen as one).
	var ended time.Time
	eventually(t, "the first attempt ended in the ledger, its stop closed", func() bool {
		v := status(arn)
		if v.Source != "ledger" || v.Status != client.StatusStopped || v.EndedAt == nil || len(v.Stops) != 1 || !v.Stops[0].Closed() {
			return false
		}
		ended = *v.EndedAt
		return true
	})
	eventually(t, "a second later than the first attempt's end", func() bool { return time.Now().Truncate(time.Second).After(ended) })

	if _, err := sm.RetryPipelineExecution(ctx, &sagemaker.RetryPipelineExecutionInput{PipelineExecutionArn: aws.String(arn),
		ClientRequestToken: aws.String(name + "-retry-token-0123456789abcdef")}); err != nil {
		t.Fatal(err)
	}
	waitRunning(arn)
	var last client.Execution
	defer func() {
		if t.Failed() {
			raw, _ := json.MarshalIndent(last, "", " ")
			t.Logf("last view:\n%s", raw)
		}
	}()
	eventually(t, "the ledger to see the retry as a second attempt", func() bool { last = status(arn); return len(last.Attempts) == 2 })
	stopAndWait(arn)

	// stop --wait returns once SageMaker says Stopped; the ledger records
	// the end from the status event, a moment later.
	var v client.Execution
	eventually(t, "the ledger to record the second attempt's end and close its stop", func() bool {
		v = status(arn)
		last = v
		return v.Source == "ledger" && len(v.Attempts) == 2 && v.Attempts[1].EndedAt != nil && len(v.Stops) == 2 && v.Stops[0].Closed() && v.Stops[1].Closed()
	})
	if v.Status != client.StatusStopped || len(v.Attempts) != 2 {
		t.Fatalf("view: %s with attempts %+v, want Stopped with two", v.Status, v.Attempts)
	}
	first, second := v.Attempts[0], v.Attempts[1]
	if first.Number != 1 || first.Status != client.StatusStopped || first.EndedAt == nil || first.StoppingAt == nil ||
		second.Number != 2 || second.Status != client.StatusStopped || second.StartedAt == nil || second.EndedAt == nil ||
		second.StartedAt.Before(*first.EndedAt) {
		t.Fatalf("attempts %+v: want two Stopped attempts, the second started after the first ended", v.Attempts)
	}
	if len(v.Stops) != 2 || !v.Stops[0].Closed() || !v.Stops[1].Closed() {
		t.Fatalf("stops %+v, want both closed", v.Stops)
	}
	params := map[string]string{}
	for _, p := range v.Parameters {
		params[p.Name] = p.Value
	}
	if len(params) != 2 || params["Mode"] != "thorough" || params["Epochs"] != "3" {
		t.Fatalf("parameters %+v, want Mode=thorough as given and Epochs=3 by default", v.Parameters)
	}
	if v.PipelineVersion == nil || v.PipelineVersion.ID != 1 {
		t.Fatalf("pipeline version %+v, want 1", v.PipelineVersion)
	}

	// The human view shows them too.
	code, stdout, _ := runCLI(t, s, "status", shortName(arn))
	t.Logf("stopcoord status of a retried execution:\n%s", stdout)
	for _, want := range []string{"pipeline version", "PARAMETER", "Mode", "thorough", "ATTEMPT", "STOPPING SINCE"} {
		if code != exitOK || !strings.Contains(stdout, want) {
			t.Errorf("status (exit %d) lacks %q:\n%s", code, want, stdout)
		}
	}

	// After UpdatePipeline, a new execution runs version 2; the first
	// still shows version 1.
	if _, err := sm.UpdatePipeline(ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(name), PipelineDefinition: aws.String(def(5))}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.UpdatePipelineVersion(ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String("arn:aws:sagemaker:us-east-1:123456789012:pipeline/" + name),
		PipelineVersionId: aws.Int64(2), PipelineVersionDisplayName: aws.String("more-epochs")}); err != nil {
		t.Fatal(err)
	}
	later := start("later")
	waitRunning(later)
	lv := status(later)
	if lv.PipelineVersion == nil || lv.PipelineVersion.ID != 2 || lv.PipelineVersion.DisplayName != "more-epochs" {
		t.Fatalf("later execution's version %+v, want 2 (more-epochs)", lv.PipelineVersion)
	}
	if got := fmt.Sprint(lv.Parameters); !strings.Contains(got, "{Epochs 5}") || !strings.Contains(got, "{Mode fast}") {
		t.Fatalf("later execution's parameters %s, want the new defaults", got)
	}
	if v := status(arn); v.PipelineVersion == nil || v.PipelineVersion.ID != 1 {
		t.Fatalf("the first execution's version is now %+v, want still 1", v.PipelineVersion)
	}
	stopAndWait(later)
}
