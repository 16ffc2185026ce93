package emulator_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestListPipelineParametersForExecution: every parameter of the
// definition, in its order, with the value given at start or the default.
func TestListPipelineParametersForExecution(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).
		Param("Label", "String", "x").Param("Count", "Integer", nil).Param("Threshold", "Float", 0.5).Param("Deploy", "Boolean", false).JSON())
	arn := e.start(pipe,
		smtypes.Parameter{Name: aws.String("Count"), Value: aws.String("3")},
		smtypes.Parameter{Name: aws.String("Label"), Value: aws.String("given")})

	var got []string
	p := sagemaker.NewListPipelineParametersForExecutionPaginator(e.sm, &sagemaker.ListPipelineParametersForExecutionInput{
		PipelineExecutionArn: aws.String(arn), MaxResults: aws.Int32(3)})
	pages := 0
	for p.HasMorePages() {
		pg, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, param := range pg.PipelineParameters {
			got = append(got, aws.ToString(param.Name)+"="+aws.ToString(param.Value))
		}
	}
	want := []string{"Label=given", "Count=3", "Threshold=0.5", "Deploy=false"}
	if !equal(got, want) || pages != 2 {
		t.Errorf("parameters %v in %d pages, want %v in 2 pages of 3", got, pages, want)
	}

	cases := []struct {
		name string
		in   *sagemaker.ListPipelineParametersForExecutionInput
		want string
	}{
		{"unknown execution", &sagemaker.ListPipelineParametersForExecutionInput{PipelineExecutionArn: aws.String(arn + "x")}, "ResourceNotFound"},
		{"not an execution ARN", &sagemaker.ListPipelineParametersForExecutionInput{PipelineExecutionArn: aws.String("arn:aws:sagemaker:us-east-1:123456789012:pipeline/p")}, "ValidationException"},
		{"MaxResults 0", &sagemaker.ListPipelineParametersForExecutionInput{PipelineExecutionArn: aws.String(arn), MaxResults: aws.Int32(0)}, "ValidationException"},
		{"MaxResults 101", &sagemaker.ListPipelineParametersForExecutionInput{PipelineExecutionArn: aws.String(arn), MaxResults: aws.Int32(101)}, "ValidationException"},
		{"NextToken of 8193", &sagemaker.ListPipelineParametersForExecutionInput{PipelineExecutionArn: aws.String(arn), NextToken: aws.String(strings.Repeat("a", 8193))}, "ValidationException"},
		{"foreign NextToken", &sagemaker.ListPipelineParametersForExecutionInput{PipelineExecutionArn: aws.String(arn), NextToken: aws.String("bm9wZQ")}, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sm.ListPipelineParametersForExecution(e.ctx, tc.in)
			checkCode(t, err, tc.want)
		})
	}
}

// TestUpdatePipelineExecution changes a running execution's name,
// description and parallelism; a raised parallelism starts the waiting
// steps at once.
func TestUpdatePipelineExecution(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(
		emulatortest.Job("A", "Processing").Duration(longJob),
		emulatortest.Job("B", "Processing").Duration(longJob),
		emulatortest.Job("C", "Processing").Duration(longJob),
	).JSON())
	out, err := e.sm.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(pipe),
		ParallelismConfiguration: &smtypes.ParallelismConfiguration{MaxParallelExecutionSteps: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.PipelineExecutionArn)
	emulatortest.WaitFor(t, func() (bool, string) {
		n := len(e.steps(arn))
		return n == 1, fmt.Sprintf("%d steps started, want 1", n)
	})
	stillFor(t, 100*time.Millisecond, func() (bool, string) {
		n := len(e.steps(arn))
		return n == 1, fmt.Sprintf("%d steps started with parallelism 1", n)
	})

	up, err := e.sm.UpdatePipelineExecution(e.ctx, &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn),
		PipelineExecutionDisplayName: aws.String("renamed"), PipelineExecutionDescription: aws.String("now three at once"),
		ParallelismConfiguration: &smtypes.ParallelismConfiguration{MaxParallelExecutionSteps: aws.Int32(3)}})
	if err != nil || aws.ToString(up.PipelineExecutionArn) != arn {
		t.Fatalf("update execution: %+v %v", up, err)
	}
	emulatortest.WaitFor(t, func() (bool, string) {
		n := len(e.steps(arn))
		return n == 3, fmt.Sprintf("%d steps started after raising the parallelism to 3", n)
	})
	d := e.describe(arn)
	if aws.ToString(d.PipelineExecutionDisplayName) != "renamed" || aws.ToString(d.PipelineExecutionDescription) != "now three at once" ||
		d.ParallelismConfiguration == nil || aws.ToInt32(d.ParallelismConfiguration.MaxParallelExecutionSteps) != 3 {
		t.Errorf("described %+v, want the new name, description and parallelism", d)
	}

	// The new name travels in the events from now on.
	e.stop(arn)
	e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	tr := e.doneTransitions(arn)
	if ex := tr["execution"]; len(ex) != 3 {
		t.Fatalf("execution transitions %v", ex)
	}
	var last event
	for _, ev := range e.fileEvents() {
		if ev.Detail["currentPipelineExecutionStatus"] == "Stopped" {
			last = ev
		}
	}
	if last.Detail["pipelineExecutionDisplayName"] != "renamed" || last.Detail["pipelineExecutionDescription"] != "now three at once" {
		t.Errorf("terminal event %v, want the new display name and description", last.Detail)
	}

	cases := []struct {
		name string
		in   *sagemaker.UpdatePipelineExecutionInput
		want string
	}{
		{"rename a terminal execution", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn), PipelineExecutionDisplayName: aws.String("after")}, ""},
		{"parallelism of a terminal execution", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn),
			ParallelismConfiguration: &smtypes.ParallelismConfiguration{MaxParallelExecutionSteps: aws.Int32(2)}}, "ConflictException"},
		{"unknown execution", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn + "x")}, "ResourceNotFound"},
		{"not an execution ARN", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String("nope")}, "ValidationException"},
		{"display name of 83", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn), PipelineExecutionDisplayName: aws.String(strings.Repeat("a", 83))}, "ValidationException"},
		{"display name pattern", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn), PipelineExecutionDisplayName: aws.String("a_b")}, "ValidationException"},
		{"description over 3072", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn), PipelineExecutionDescription: aws.String(strings.Repeat("a", 3073))}, "ValidationException"},
		{"parallelism 0", &sagemaker.UpdatePipelineExecutionInput{PipelineExecutionArn: aws.String(arn),
			ParallelismConfiguration: &smtypes.ParallelismConfiguration{MaxParallelExecutionSteps: aws.Int32(0)}}, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sm.UpdatePipelineExecution(e.ctx, tc.in)
			checkCode(t, err, tc.want)
		})
	}
	if d := e.describe(arn); aws.ToString(d.PipelineExecutionDisplayName) != "after" || aws.ToInt32(d.ParallelismConfiguration.MaxParallelExecutionSteps) != 3 {
		t.Errorf("after the cases: name %q parallelism %d, want after / 3 (the refused update changed nothing)",
			aws.ToString(d.PipelineExecutionDisplayName), aws.ToInt32(d.ParallelismConfiguration.MaxParallelExecutionSteps))
	}
}

// TestUnmodelledStartMembers: members the emulator does not act on are
// still held to the model (MlflowExperimentName 1..256), or refused
// explicitly (SelectiveExecutionConfig).
func TestUnmodelledStartMembers(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).JSON())
	start := func(in *sagemaker.StartPipelineExecutionInput) (string, error) {
		in.PipelineName = aws.String(pipe)
		out, err := e.sm.StartPipelineExecution(e.ctx, in)
		if err != nil {
			return "", err
		}
		return aws.ToString(out.PipelineExecutionArn), nil
	}
	for _, tc := range []struct {
		name string
		in   *sagemaker.StartPipelineExecutionInput
	}{
		{"MlflowExperimentName of 0", &sagemaker.StartPipelineExecutionInput{MlflowExperimentName: aws.String("")}},
		{"MlflowExperimentName of 257", &sagemaker.StartPipelineExecutionInput{MlflowExperimentName: aws.String(strings.Repeat("m", 257))}},
		{"SelectiveExecutionConfig without steps", &sagemaker.StartPipelineExecutionInput{SelectiveExecutionConfig: &smtypes.SelectiveExecutionConfig{
			SelectedSteps: []smtypes.SelectedStep{}}}},
		{"SelectiveExecutionConfig (not emulated)", &sagemaker.StartPipelineExecutionInput{SelectiveExecutionConfig: &smtypes.SelectiveExecutionConfig{
			SelectedSteps: []smtypes.SelectedStep{{StepName: aws.String("A")}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := start(tc.in)
			checkCode(t, err, "ValidationException")
		})
	}
	arn, err := start(&sagemaker.StartPipelineExecutionInput{MlflowExperimentName: aws.String(strings.Repeat("m", 256))})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.describe(arn); d.MLflowConfig == nil || aws.ToString(d.MLflowConfig.MlflowExperimentName) != strings.Repeat("m", 256) {
		t.Errorf("MLflowConfig %+v, want the experiment name given at start", d.MLflowConfig)
	}
}
