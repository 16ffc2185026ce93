package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/client"
	"github.com/stopcoord/stopcoord/local/stack"
)

var pipelineSeq atomic.Int64

// startPipeline creates a pipeline of the given steps, starts it and waits
// until every step runs.
func startPipeline(t *testing.T, s *stack.Stack, name string, steps ...string) string {
	t.Helper()
	ctx := context.Background()
	sm := s.SageMakerClient()
	name = fmt.Sprintf("%s-%d", name, pipelineSeq.Add(1))
	def := `{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.Join(steps, ",") + `]}`
	if _, err := sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String(name), PipelineDefinition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::123456789012:role/pipeline"), ClientRequestToken: aws.String(name + "-create-token-0123456789abcdef")}); err != nil {
		t.Fatal(err)
	}
	out, err := sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(name), ClientRequestToken: aws.String(name + "-start-token-0123456789abcdefgh")})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.PipelineExecutionArn)
	eventually(t, "every step of "+arn+" running", func() bool {
		steps2, err := sm.ListPipelineExecutionSteps(ctx, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
		if err != nil || len(steps2.PipelineExecutionSteps) != len(steps) {
			return false
		}
		for _, st := range steps2.PipelineExecutionSteps {
			if st.StepStatus != smtypes.StepStatusExecuting {
				return false
			}
		}
		return true
	})
	return arn
}

// eventually polls cond until it holds; the limit is generous, for a busy
// machine, and only reached when something is wrong.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func callbackStep(s *stack.Stack, name string) string {
	queue, _ := s.Output("CallbackQueueUrl")
	return fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":{"job":"etl"},"OutputParameters":[]}`, name, queue)
}

func lambdaStep(name, behaviour string, timeoutSeconds int) string {
	return fmt.Sprintf(`{"Name":%q,"Type":"Lambda","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:%s","Timeout":%d,"Arguments":{"fn":%q,"execution":{"Get":"Execution.PipelineExecutionArn"}},"OutputParameters":[]}`,
		name, behaviour, timeoutSeconds, behaviour)
}

const trainingStep = `{"Name":"Train","Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"img"}}}`

func shortName(arn string) string {
	ref, _ := client.ParseExecution(arn)
	return ref.Pipeline + "/" + ref.ID
}

// TestStopWaitStopsTheDemoPipeline is the issue's done-when: `stopcoord
// stop --wait` against the local stack stops a pipeline like the demo's (a
// training job, a callback step, a Lambda step that notices the stop and
// ends) and exits 0 once it is Stopped.
func TestStopWaitStopsTheDemoPipeline(t *testing.T) {
	s, lambdas := localStack(t)
	sm := s.SageMakerClient()
	// The Lambda step ends once its execution is stopping, as
	// shared/lambdastep lets a function do, and not before the CLI has
	// shown it as what the stop waits for.
	out := watchFor("Lambda Score (ends by")
	seen := out.seen
	lambdas.set("score-until-stopped", func(ctx context.Context, args map[string]any) string {
		arn, _ := args["execution"].(string)
		for ctx.Err() == nil {
			out, err := sm.DescribePipelineExecution(ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
			if err != nil || out.PipelineExecutionStatus != smtypes.PipelineExecutionStatusExecuting {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		select {
		case <-seen:
		case <-time.After(time.Minute): // the assertions below report it
		}
		return `{"score":"0.9"}`
	})
	arn := startPipeline(t, s, "cli-demo", trainingStep, callbackStep(s, "StartGlue"), lambdaStep("Score", "score-until-stopped", 300))

	code, stderr := runCLIWith(t, s, out, "stop", shortName(arn), "--reason", "cli end-to-end", "--wait", "--poll-min", "100ms", "--poll-max", "300ms")
	stdout := out.String()
	t.Logf("stopcoord stop --wait:\n%s", stdout)
	if code != exitOK {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"stop requested: " + arn, "Stopping, stop issued; waiting for", "Lambda Score (ends by", arn + ": Stopped"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if got := describe(t, sm, arn); got != smtypes.PipelineExecutionStatusStopped {
		t.Fatalf("SageMaker says %s", got)
	}

	// status: the human table and the raw view.
	code, stdout, stderr = runCLI(t, s, "status", arn)
	if code != exitOK {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}
	t.Logf("stopcoord status:\n%s", stdout)
	for _, want := range []string{"status", "Stopped", "STEP", "Train", "StartGlue", "callback answered (failure)", "Score", "BLOCKING THE STOP", "nothing", "STOP ", "TIMELINE"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCLI(t, s, "status", "-o", "json", shortName(arn))
	var view client.Execution
	if code != exitOK || json.Unmarshal([]byte(stdout), &view) != nil || view.Status != client.StatusStopped || len(view.Steps) != 3 || len(view.Stops) != 1 {
		t.Fatalf("status -o json: exit %d, view %+v\n%s", code, view, stdout)
	}
}

func describe(t *testing.T, sm *sagemaker.Client, arn string) smtypes.PipelineExecutionStatus {
	t.Helper()
	out, err := sm.DescribePipelineExecution(context.Background(), &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return out.PipelineExecutionStatus
}

// TestStopWaitExitCodeWhenALambdaTimesOut: a Lambda step that outlives its
// timeout turns the stop into Failed, and the exit code says the execution
// did not end as asked.
func TestStopWaitExitCodeWhenALambdaTimesOut(t *testing.T) {
	s, lambdas := localStack(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	lambdas.set("hangs", func(ctx context.Context, _ map[string]any) string {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return `{}`
	})
	arn := startPipeline(t, s, "cli-timeout", callbackStep(s, "Wait"), lambdaStep("Hangs", "hangs", 3))
	code, stdout, stderr := runCLI(t, s, "stop", arn, "--force", "--wait", "--poll-min", "100ms", "--poll-max", "300ms")
	if code != exitNotAsAsked || !strings.Contains(stderr, "the execution ended Failed, not Stopped") {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitNotAsAsked, stdout, stderr)
	}
}

// TestBulkStopWaits stops every execution of a pipeline and waits for
// each.
func TestBulkStopWaits(t *testing.T) {
	s, _ := localStack(t)
	first := startPipeline(t, s, "cli-bulk", callbackStep(s, "Wait"))
	ref, _ := client.ParseExecution(first)
	sm := s.SageMakerClient()
	out, err := sm.StartPipelineExecution(context.Background(), &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(ref.Pipeline),
		ClientRequestToken: aws.String(ref.Pipeline + "-second-start-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	second := aws.ToString(out.PipelineExecutionArn)
	eventually(t, "the second execution running its callback step", func() bool {
		st, err := sm.ListPipelineExecutionSteps(context.Background(), &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(second)})
		return err == nil && len(st.PipelineExecutionSteps) == 1 && st.PipelineExecutionSteps[0].StepStatus == smtypes.StepStatusExecuting
	})
	code, stdout, stderr := runCLI(t, s, "stop", "--pipeline", ref.Pipeline, "--wait", "--poll-min", "100ms", "--poll-max", "300ms")
	if code != exitOK || !strings.Contains(stdout, "queued 2 stop(s)") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, arn := range []string{first, second} {
		if got := describe(t, sm, arn); got != smtypes.PipelineExecutionStatusStopped {
			t.Errorf("%s is %s", arn, got)
		}
	}
}

// TestLocalGatewayRefusesUnsigned: the local gateway answers an unsigned
// request as API Gateway's IAM authorisation does.
func TestLocalGatewayRefusesUnsigned(t *testing.T) {
	s, _ := localStack(t)
	resp, err := http.Get(s.GatewayURL + "/stops/stop-0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned request answered %d, want 403", resp.StatusCode)
	}
	code, _, stderr := runCLI(t, s, "wait", "stop-0123456789abcdef", "--timeout", "5s")
	if code != exitError || !strings.Contains(stderr, "404 not_found") {
		t.Fatalf("signed request for an unknown stop: exit %d, %s", code, stderr)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"stop"}, {"stop", "a/b", "--pipeline", "p"}, {"status"}, {"wait", "x"}, {"bogus"}, {"stop", "--nope"},
		{"stops", "extra"}, {"stops", "-o", "yaml"}, {"stops", "--stuck", "--older-than", "-1m"}, {"stops", "--limit", "51"}} {
		var out, errs strings.Builder
		code := (&cli{stdout: &out, stderr: &errs, getenv: func(string) string { return "" }}).run(context.Background(), args)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want %d (%s)", args, code, exitUsage, errs.String())
		}
	}
}
