package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/settings"
)

func definition(step string) string {
	return `{"Version":"2020-12-01","Parameters":[],"Steps":[` + step + `]}`
}

// recordFromSageMaker records an execution as the status-events function
// would have, so the sweeper finds it in the ledger.
func recordFromSageMaker(t *testing.T, b *testbed.Bed, arn string) {
	t.Helper()
	out, err := b.SageMaker.DescribePipelineExecution(b.Ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	parsed, _ := pipeline.ParseExecutionARN(arn)
	if _, err := b.Ledger.RecordExecutionStatus(b.Ctx, pipeline.ExecutionChange{ARN: parsed, Status: pipeline.ExecutionStatus(out.PipelineExecutionStatus),
		At: aws.ToTime(out.CreationTime), StartedAt: aws.ToTime(out.CreationTime)}); err != nil {
		t.Fatal(err)
	}
}

// TestSweeperUnderRIE runs the built sweeper once, on the schedule's
// event, against an execution past its maximum runtime and an execution
// whose Stopping message the emulator dropped.
func TestSweeperUnderRIE(t *testing.T) {
	b := testbed.New(t, func(o *emulator.Options) { o.Switches.DropStoppingMessage = 1 })
	// Built before the executions start: a build on a busy machine takes
	// long, and nothing in the test should depend on how long.
	bootstrap := testbed.Bootstrap(t, ".")
	long := b.CreatePipeline(definition(`{"Name":"Train","Type":"Training","Arguments":{}}`))
	stuck := b.CreatePipeline(definition(fmt.Sprintf(`{"Name":"Wait","Type":"Callback","SqsQueueUrl":%q,"Arguments":{},"OutputParameters":[]}`, b.CallbackQueue)))
	policies := fmt.Sprintf(`{"policies":[{"pipelines":[%q],"maxRuntime":"1s"},{"pipelines":[%q],"gracePeriod":"0s","forceDeadline":"1h"}]}`, long, stuck)

	overdue := b.Start(long)
	recordFromSageMaker(t, b, overdue)
	blocked := b.Start(stuck)
	b.WaitStep(blocked, "Wait", smtypes.StepStatusExecuting)
	recordFromSageMaker(t, b, blocked)
	coord := coordinator.New(coordinator.Deps{Ledger: b.Ledger, SageMaker: b.SageMaker, Access: pipeline.AllowList{Accounts: []string{"123456789012"}}})
	if _, err := coord.Stop(b.Ctx, coordinator.StopInput{ExecutionARN: blocked, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // past the 1 s maximum runtime; the emulator's clock is the wall clock

	calls := b.RecordSageMaker()
	fn := rie.StartT(t, rie.Spec{Bootstrap: bootstrap, Name: "sweeper", Env: append(localaws.Env(),
		"AWS_ENDPOINT_URL_SAGEMAKER="+calls.URL,
		"AWS_ENDPOINT_URL_DYNAMODB="+b.DynamoDBURL,
		settings.TableName+"="+b.Table,
		settings.AllowedAccounts+"=123456789012",
		settings.Policies+"="+policies,
	)})
	event, err := samples.FS.ReadFile("eventbridge/scheduled-event.json")
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	out, err := fn.Invoke(context.Background(), event)
	if err != nil {
		t.Fatalf("sweeper run: %v\n%s", err, fn.Output())
	}
	elapsed := time.Since(started)
	var report coordinator.SweepReport
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("report %s: %v", out, err)
	}
	if report.Stopped != 1 || report.Cleaned != 1 || report.Errors != 0 || !report.PassComplete || report.Executions != 2 {
		t.Fatalf("report %+v, want one max-runtime stop and one cleanup, pass complete\n%s", report, fn.Output())
	}
	b.WaitStatus(blocked, smtypes.PipelineExecutionStatusStopped)
	if s := b.Status(overdue); s != smtypes.PipelineExecutionStatusStopping && s != smtypes.PipelineExecutionStatusStopped {
		t.Fatalf("the overdue execution is %s, want stopped", s)
	}
	parsed, _ := pipeline.ParseExecutionARN(overdue)
	view, err := b.Ledger.ReadExecution(b.Ctx, parsed)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.Stops) != 1 || view.Stops[0].Key != coordinator.MaxRuntimeKey {
		t.Fatalf("stops of the overdue execution %+v, want the max-runtime stop", view.Stops)
	}
	t.Logf("one sweeper run under RIE: %s, %d SageMaker calls, report %+v", elapsed.Round(time.Millisecond), calls.Count(""), report)
}
