package emulator_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

func TestPaginators(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1), emulatortest.Job("B", "Processing").Duration(1), emulatortest.Job("C", "Processing").Duration(1).After("A", "B")).JSON())
	const n = 23
	var arns []string
	for range n {
		arns = append(arns, e.start(pipe))
		time.Sleep(2 * time.Millisecond) // distinct creation times, so the order is checkable
	}
	for _, a := range arns {
		e.waitStatus(a, smtypes.PipelineExecutionStatusSucceeded)
	}

	cases := []struct {
		name  string
		order smtypes.SortOrder
		by    smtypes.SortPipelineExecutionsBy
		want  func(i int) string
	}{
		{"default is newest first", "", "", func(i int) string { return arns[n-1-i] }},
		{"ascending", smtypes.SortOrderAscending, smtypes.SortPipelineExecutionsByCreationTime, func(i int) string { return arns[i] }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := sagemaker.NewListPipelineExecutionsPaginator(e.sm, &sagemaker.ListPipelineExecutionsInput{
				PipelineName: aws.String(pipe), SortOrder: tc.order, SortBy: tc.by}, func(o *sagemaker.ListPipelineExecutionsPaginatorOptions) { o.Limit = 5 })
			var got []string
			pages := 0
			for p.HasMorePages() {
				pg, err := p.NextPage(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, s := range pg.PipelineExecutionSummaries {
					got = append(got, *s.PipelineExecutionArn)
					if s.PipelineExecutionStatus != smtypes.PipelineExecutionStatusSucceeded || s.StartTime == nil {
						t.Errorf("summary %+v, want Succeeded with a StartTime", s)
					}
				}
			}
			if pages != 5 || len(got) != n {
				t.Fatalf("%d pages with %d executions, want 5 pages with %d", pages, len(got), n)
			}
			for i := range got {
				if got[i] != tc.want(i) {
					t.Fatalf("item %d = %s, want %s", i, got[i], tc.want(i))
				}
			}
		})
	}

	t.Run("steps", func(t *testing.T) {
		p := sagemaker.NewListPipelineExecutionStepsPaginator(e.sm, &sagemaker.ListPipelineExecutionStepsInput{
			PipelineExecutionArn: aws.String(arns[0]), SortOrder: smtypes.SortOrderAscending},
			func(o *sagemaker.ListPipelineExecutionStepsPaginatorOptions) { o.Limit = 1 })
		var names []string
		for p.HasMorePages() {
			pg, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range pg.PipelineExecutionSteps {
				names = append(names, *s.StepName)
			}
		}
		if len(names) != 3 || names[2] != "C" {
			t.Errorf("steps %v, want A and B then C, in start order", names)
		}
	})

	t.Run("pipelines", func(t *testing.T) {
		e.createPipeline(emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).JSON())
		p := sagemaker.NewListPipelinesPaginator(e.sm, &sagemaker.ListPipelinesInput{SortBy: smtypes.SortPipelinesByName},
			func(o *sagemaker.ListPipelinesPaginatorOptions) { o.Limit = 1 })
		count := 0
		for p.HasMorePages() {
			pg, err := p.NextPage(e.ctx)
			if err != nil {
				t.Fatal(err)
			}
			count += len(pg.PipelineSummaries)
		}
		if count != 2 {
			t.Errorf("listed %d pipelines, want 2", count)
		}
	})

	t.Run("time filters", func(t *testing.T) {
		out, err := e.sm.ListPipelineExecutions(e.ctx, &sagemaker.ListPipelineExecutionsInput{
			PipelineName: aws.String(pipe), CreatedAfter: aws.Time(time.Now().Add(time.Hour)), MaxResults: aws.Int32(100)})
		if err != nil || len(out.PipelineExecutionSummaries) != 0 || out.NextToken != nil {
			t.Errorf("future CreatedAfter: %v %v, want no executions and no NextToken", out, err)
		}
	})

	bad := []struct {
		name string
		in   *sagemaker.ListPipelineExecutionsInput
		want string
	}{
		{"MaxResults 0", &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String(pipe), MaxResults: aws.Int32(0)}, "ValidationException"},
		{"MaxResults 101", &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String(pipe), MaxResults: aws.Int32(101)}, "ValidationException"},
		{"foreign NextToken", &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String(pipe), NextToken: aws.String("garbage")}, "ValidationException"},
		{"bad SortOrder", &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String(pipe), SortOrder: "Sideways"}, "ValidationException"},
		{"unknown pipeline", &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String("nope")}, "ResourceNotFound"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sm.ListPipelineExecutions(e.ctx, tc.in)
			checkCode(t, err, tc.want)
		})
	}
}
