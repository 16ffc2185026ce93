package emulator_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestPipelineVersions walks UpdatePipeline, ListPipelineVersions and
// UpdatePipelineVersion through the SDK: every update records a version,
// executions remember theirs, and DescribePipelineDefinitionForExecution
// shows what an execution started with after the pipeline changed.
func TestPipelineVersions(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	v1 := emulatortest.Pipeline(emulatortest.Job("Train", "Training").Duration(longJob)).JSON()
	v2 := emulatortest.Pipeline(emulatortest.Job("Process", "Processing").Duration(longJob)).JSON()
	pipe := e.createPipeline(v1)
	pipeArn := e.pipelineArn(pipe)

	first := e.start(pipe)
	up, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe),
		PipelineDefinition: aws.String(v2), PipelineDescription: aws.String("second")})
	if err != nil {
		t.Fatalf("update pipeline: %v", err)
	}
	if aws.ToInt64(up.PipelineVersionId) != 2 || aws.ToString(up.PipelineArn) != pipeArn {
		t.Fatalf("update returned %s version %d, want %s version 2", aws.ToString(up.PipelineArn), aws.ToInt64(up.PipelineVersionId), pipeArn)
	}
	second := e.start(pipe)
	old := e.startVersion(pipe, 1)

	// Each execution runs and reports its own version's definition.
	for _, tc := range []struct {
		arn, def, step string
		version        int64
	}{{first, v1, "Train", 1}, {second, v2, "Process", 2}, {old, v1, "Train", 1}} {
		if got := aws.ToInt64(e.describe(tc.arn).PipelineVersionId); got != tc.version {
			t.Errorf("execution %s: PipelineVersionId %d, want %d", tc.arn, got, tc.version)
		}
		d, err := e.sm.DescribePipelineDefinitionForExecution(e.ctx, &sagemaker.DescribePipelineDefinitionForExecutionInput{PipelineExecutionArn: aws.String(tc.arn)})
		if err != nil {
			t.Fatalf("describe definition for %s: %v", tc.arn, err)
		}
		if aws.ToString(d.PipelineDefinition) != tc.def || d.CreationTime == nil {
			t.Errorf("definition for %s = %s (created %v), want version %d's %s", tc.arn, aws.ToString(d.PipelineDefinition), d.CreationTime, tc.version, tc.def)
		}
		e.waitStep(tc.arn, tc.step, smtypes.StepStatusExecuting)
	}

	// DescribePipeline shows the latest version, or the one asked for.
	if d := e.describePipeline(pipe, nil); aws.ToString(d.PipelineDefinition) != v2 || aws.ToString(d.PipelineDescription) != "second" {
		t.Errorf("latest definition %s description %q, want version 2's", aws.ToString(d.PipelineDefinition), aws.ToString(d.PipelineDescription))
	}
	if d := e.describePipeline(pipe, aws.Int64(1)); aws.ToString(d.PipelineDefinition) != v1 {
		t.Errorf("version 1 definition %s, want %s", aws.ToString(d.PipelineDefinition), v1)
	}

	// Name and describe version 1.
	named, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(pipeArn),
		PipelineVersionId: aws.Int64(1), PipelineVersionDisplayName: aws.String("baseline"), PipelineVersionDescription: aws.String("the first")})
	if err != nil || aws.ToInt64(named.PipelineVersionId) != 1 || aws.ToString(named.PipelineArn) != pipeArn {
		t.Fatalf("update pipeline version: %+v %v", named, err)
	}
	if d := e.describePipeline(pipe, aws.Int64(1)); aws.ToString(d.PipelineVersionDisplayName) != "baseline" || aws.ToString(d.PipelineVersionDescription) != "the first" {
		t.Errorf("version 1 named %q described %q, want baseline / the first", aws.ToString(d.PipelineVersionDisplayName), aws.ToString(d.PipelineVersionDescription))
	}

	// An update without a definition still records a version (the default).
	if up, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe), PipelineDisplayName: aws.String("renamed")}); err != nil || aws.ToInt64(up.PipelineVersionId) != 3 {
		t.Fatalf("update without definition: %+v %v, want version 3", up, err)
	}
	if d := e.describePipeline(pipe, nil); aws.ToString(d.PipelineDefinition) != v2 || aws.ToString(d.PipelineDisplayName) != "renamed" {
		t.Errorf("version 3 definition %s display name %q, want version 2's definition, renamed", aws.ToString(d.PipelineDefinition), aws.ToString(d.PipelineDisplayName))
	}

	// Newest first by default, one page at a time through the paginator.
	var ids []int64
	var lastExecution []string
	p := sagemaker.NewListPipelineVersionsPaginator(e.sm, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String(pipe), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		pg, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.PipelineVersionSummaries) != 1 {
			t.Fatalf("page of %d versions, want 1", len(pg.PipelineVersionSummaries))
		}
		s := pg.PipelineVersionSummaries[0]
		if aws.ToString(s.PipelineArn) != pipeArn || s.CreationTime == nil {
			t.Errorf("summary %+v, want the pipeline's arn and a creation time", s)
		}
		ids = append(ids, aws.ToInt64(s.PipelineVersionId))
		lastExecution = append(lastExecution, aws.ToString(s.LastExecutionPipelineExecutionArn))
	}
	if want := []int64{3, 2, 1}; !equal(ids, want) {
		t.Errorf("versions %v, want %v", ids, want)
	}
	if want := []string{"", second, old}; !equal(lastExecution, want) {
		t.Errorf("last executions %v, want %v", lastExecution, want)
	}
	asc, err := e.sm.ListPipelineVersions(e.ctx, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String(pipeArn), SortOrder: smtypes.SortOrderAscending})
	if err != nil || len(asc.PipelineVersionSummaries) != 3 || aws.ToInt64(asc.PipelineVersionSummaries[0].PipelineVersionId) != 1 ||
		aws.ToString(asc.PipelineVersionSummaries[0].PipelineVersionDisplayName) != "baseline" || asc.NextToken != nil {
		t.Errorf("ascending by ARN: %+v %v, want versions 1..3, version 1 named baseline", asc, err)
	}

	t.Run("errors", func(t *testing.T) {
		ghostArn := strings.Replace(pipeArn, pipe, "ghost", 1)
		cases := []struct {
			name string
			call func() error
			want string
		}{
			{"update: unknown pipeline", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String("ghost")})
				return err
			}, "ResourceNotFound"},
			{"update: name with underscore", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String("bad_name")})
				return err
			}, "ValidationException"},
			{"update: display name of 257", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe), PipelineDisplayName: aws.String(strings.Repeat("a", 257))})
				return err
			}, "ValidationException"},
			{"update: description over 3072", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe), PipelineDescription: aws.String(strings.Repeat("a", 3073))})
				return err
			}, "ValidationException"},
			{"update: role not an IAM role", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe), RoleArn: aws.String("arn:aws:iam::1:role/x")})
				return err
			}, "ValidationException"},
			{"update: parallelism 0", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe),
					ParallelismConfiguration: &smtypes.ParallelismConfiguration{MaxParallelExecutionSteps: aws.Int32(0)}})
				return err
			}, "ValidationException"},
			{"update: definition with a cycle", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe),
					PipelineDefinition: aws.String(emulatortest.Pipeline(emulatortest.Job("A", "Processing").After("B"), emulatortest.Job("B", "Processing").After("A")).JSON())})
				return err
			}, "ValidationException"},
			{"update: definition in S3 (refused)", func() error {
				_, err := e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe),
					PipelineDefinitionS3Location: &smtypes.PipelineDefinitionS3Location{Bucket: aws.String("bucket"), ObjectKey: aws.String("def.json")}})
				return err
			}, "ValidationException"},
			{"list: unknown pipeline", func() error {
				_, err := e.sm.ListPipelineVersions(e.ctx, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String("ghost")})
				return err
			}, "ResourceNotFound"},
			{"list: MaxResults 101", func() error {
				_, err := e.sm.ListPipelineVersions(e.ctx, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String(pipe), MaxResults: aws.Int32(101)})
				return err
			}, "ValidationException"},
			{"list: MaxResults 0", func() error {
				_, err := e.sm.ListPipelineVersions(e.ctx, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String(pipe), MaxResults: aws.Int32(0)})
				return err
			}, "ValidationException"},
			{"list: sort order", func() error {
				_, err := e.sm.ListPipelineVersions(e.ctx, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String(pipe), SortOrder: "Sideways"})
				return err
			}, "ValidationException"},
			{"list: foreign NextToken", func() error {
				_, err := e.sm.ListPipelineVersions(e.ctx, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String(pipe), NextToken: aws.String("bm9wZQ")})
				return err
			}, "ValidationException"},
			{"list: name with underscore", func() error {
				_, err := e.sm.ListPipelineVersions(e.ctx, &sagemaker.ListPipelineVersionsInput{PipelineName: aws.String("bad_name")})
				return err
			}, "ValidationException"},
			{"update version: unknown version", func() error {
				_, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(pipeArn), PipelineVersionId: aws.Int64(7)})
				return err
			}, "ResourceNotFound"},
			{"update version: unknown pipeline", func() error {
				_, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(ghostArn), PipelineVersionId: aws.Int64(1)})
				return err
			}, "ResourceNotFound"},
			{"update version: a name, not an ARN", func() error {
				_, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(pipe), PipelineVersionId: aws.Int64(1)})
				return err
			}, "ValidationException"},
			{"update version: version 0", func() error {
				_, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(pipeArn), PipelineVersionId: aws.Int64(0)})
				return err
			}, "ValidationException"},
			{"update version: display name of 83", func() error {
				_, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(pipeArn), PipelineVersionId: aws.Int64(1),
					PipelineVersionDisplayName: aws.String(strings.Repeat("a", 83))})
				return err
			}, "ValidationException"},
			{"update version: display name pattern", func() error {
				_, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(pipeArn), PipelineVersionId: aws.Int64(1),
					PipelineVersionDisplayName: aws.String("two words")})
				return err
			}, "ValidationException"},
			{"update version: description over 3072", func() error {
				_, err := e.sm.UpdatePipelineVersion(e.ctx, &sagemaker.UpdatePipelineVersionInput{PipelineArn: aws.String(pipeArn), PipelineVersionId: aws.Int64(1),
					PipelineVersionDescription: aws.String(strings.Repeat("a", 3073))})
				return err
			}, "ValidationException"},
			{"describe: unknown version", func() error {
				_, err := e.sm.DescribePipeline(e.ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String(pipe), PipelineVersionId: aws.Int64(9)})
				return err
			}, "ResourceNotFound"},
			{"start: unknown version", func() error {
				_, err := e.sm.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(pipe), PipelineVersionId: aws.Int64(9)})
				return err
			}, "ResourceNotFound"},
			{"definition for execution: unknown execution", func() error {
				_, err := e.sm.DescribePipelineDefinitionForExecution(e.ctx, &sagemaker.DescribePipelineDefinitionForExecutionInput{PipelineExecutionArn: aws.String(pipeArn + "/execution/nope")})
				return err
			}, "ResourceNotFound"},
			{"definition for execution: not an execution ARN", func() error {
				_, err := e.sm.DescribePipelineDefinitionForExecution(e.ctx, &sagemaker.DescribePipelineDefinitionForExecutionInput{PipelineExecutionArn: aws.String(pipeArn)})
				return err
			}, "ValidationException"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) { checkCode(t, tc.call(), tc.want) })
		}
	})
}

// TestPipelineVersionSwitchesAndLimit: with VersionOnDefinitionChange an
// update that keeps the definition records no version; MaxPipelineVersions
// bounds the versions and an update beyond it is a ConflictException.
func TestPipelineVersionSwitchesAndLimit(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t, func(o *emulator.Options) {
		o.Switches.VersionOnDefinitionChange = true
		o.MaxPipelineVersions = 2
	})
	def := emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).JSON()
	pipe := e.createPipeline(def)
	update := func(doc *string) (*sagemaker.UpdatePipelineOutput, error) {
		return e.sm.UpdatePipeline(e.ctx, &sagemaker.UpdatePipelineInput{PipelineName: aws.String(pipe), PipelineDefinition: doc, PipelineDescription: aws.String("d")})
	}
	for _, doc := range []*string{nil, aws.String(def)} {
		if out, err := update(doc); err != nil || aws.ToInt64(out.PipelineVersionId) != 1 {
			t.Fatalf("update keeping the definition: %+v %v, want version 1", out, err)
		}
	}
	changed := emulatortest.Pipeline(emulatortest.Job("B", "Processing").Duration(1)).JSON()
	if out, err := update(aws.String(changed)); err != nil || aws.ToInt64(out.PipelineVersionId) != 2 {
		t.Fatalf("update changing the definition: %+v %v, want version 2", out, err)
	}
	_, err := update(aws.String(emulatortest.Pipeline(emulatortest.Job("C", "Processing").Duration(1)).JSON()))
	checkCode(t, err, "ConflictException")
	// The refused update changed nothing.
	if d := e.describePipeline(pipe, nil); aws.ToString(d.PipelineDefinition) != changed {
		t.Errorf("definition after the refused update %s, want %s", aws.ToString(d.PipelineDefinition), changed)
	}
}

func (e *env) pipelineArn(name string) string {
	e.t.Helper()
	return aws.ToString(e.describePipeline(name, nil).PipelineArn)
}

func (e *env) describePipeline(name string, version *int64) *sagemaker.DescribePipelineOutput {
	e.t.Helper()
	out, err := e.sm.DescribePipeline(e.ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String(name), PipelineVersionId: version})
	if err != nil {
		e.t.Fatalf("describe pipeline %s: %v", name, err)
	}
	return out
}

func (e *env) startVersion(pipeline string, version int64) string {
	e.t.Helper()
	out, err := e.sm.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{
		PipelineName: aws.String(pipeline), PipelineVersionId: aws.Int64(version),
	})
	if err != nil {
		e.t.Fatalf("start version %d of %s: %v", version, pipeline, err)
	}
	return aws.ToString(out.PipelineExecutionArn)
}
