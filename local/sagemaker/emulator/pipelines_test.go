package emulator_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

func TestPipelineLifecycle(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	def := emulatortest.Pipeline(emulatortest.Job("Long", "Processing").Duration(longJob)).JSON()
	const crt = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	create := func(name string) (*sagemaker.CreatePipelineOutput, error) {
		return e.sm.CreatePipeline(e.ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String(name),
			PipelineDefinition: aws.String(def), RoleArn: aws.String(roleArn), ClientRequestToken: aws.String(crt)})
	}
	out, err := create("My-Pipeline")
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:sagemaker:us-east-1:123456789012:pipeline/my-pipeline"; *out.PipelineArn != want {
		t.Errorf("arn %s, want %s", *out.PipelineArn, want)
	}
	if again, err := create("My-Pipeline"); err != nil || *again.PipelineArn != *out.PipelineArn {
		t.Errorf("retry with the same token: %v %v, want the same ARN", again, err)
	}
	_, err = e.sm.CreatePipeline(e.ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String("my-pipeline"),
		PipelineDefinition: aws.String(def), RoleArn: aws.String(roleArn)})
	checkCode(t, err, "ValidationException") // names are unique, case-insensitively

	for _, name := range []string{"My-Pipeline", *out.PipelineArn} {
		d, err := e.sm.DescribePipeline(e.ctx, &sagemaker.DescribePipelineInput{PipelineName: aws.String(name)})
		if err != nil || *d.PipelineDefinition != def || d.PipelineStatus != smtypes.PipelineStatusActive || d.CreationTime == nil {
			t.Errorf("describe %s: %+v %v", name, d, err)
		}
	}
	arn := e.start("My-Pipeline")
	if !strings.HasPrefix(arn, *out.PipelineArn+"/execution/") || len(arn) != len(*out.PipelineArn)+len("/execution/")+12 {
		t.Errorf("execution arn %s, want <pipeline arn>/execution/<12 chars>", arn)
	}
	_, err = e.sm.DeletePipeline(e.ctx, &sagemaker.DeletePipelineInput{PipelineName: aws.String("My-Pipeline")})
	checkCode(t, err, "ConflictException")
	e.stop(arn)
	e.waitStatus(arn, smtypes.PipelineExecutionStatusStopped)
	if _, err := e.sm.DeletePipeline(e.ctx, &sagemaker.DeletePipelineInput{PipelineName: aws.String("My-Pipeline")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.sm.DescribePipelineExecution(e.ctx, &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
	checkCode(t, err, "ResourceNotFound")
}

func TestCreatePipelineValidation(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	good := emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).JSON()
	cases := []struct {
		name, pipeline, def, role string
	}{
		{"underscore in name", "bad_name", good, roleArn},
		{"bad role", "ok", good, "arn:aws:iam::1:role/x"},
		{"not JSON", "ok", "{", roleArn},
		{"no steps", "ok", `{"Version":"2020-12-01","Steps":[]}`, roleArn},
		{"unknown step type", "ok", emulatortest.Pipeline(emulatortest.RawStep(`{"Name":"A","Type":"Teleport","Arguments":{}}`)).JSON(), roleArn},
		{"unknown dependency", "ok", emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1).After("Ghost")).JSON(), roleArn},
		{"cycle", "ok", emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1).After("B"), emulatortest.Job("B", "Processing").Duration(1).After("A")).JSON(), roleArn},
		{"callback without queue", "ok", emulatortest.Pipeline(emulatortest.RawStep(`{"Name":"A","Type":"Callback","Arguments":{}}`)).JSON(), roleArn},
		{"lambda timeout over 600", "ok", emulatortest.Pipeline(emulatortest.Lambda("A", functionArn, 601).Args(lambdaArgs).Outputs(answerOutput)).JSON(), roleArn},
		{"duplicate step", "ok", emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1), emulatortest.Job("A", "Training").Duration(1)).JSON(), roleArn},
		{"bad parameter type", "ok", emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).Param("P", "Blob", nil).JSON(), roleArn},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sm.CreatePipeline(e.ctx, &sagemaker.CreatePipelineInput{PipelineName: aws.String(tc.pipeline),
				PipelineDefinition: aws.String(tc.def), RoleArn: aws.String(tc.role)})
			checkCode(t, err, "ValidationException")
		})
	}
	pipe := e.createPipeline(emulatortest.Pipeline(emulatortest.Job("A", "Processing").Duration(1)).Param("Threshold", "Float", 0.5).JSON())
	params := []struct {
		name string
		p    []smtypes.Parameter
	}{
		{"undefined parameter", []smtypes.Parameter{{Name: aws.String("Nope"), Value: aws.String("1")}}},
		{"wrong type", []smtypes.Parameter{{Name: aws.String("Threshold"), Value: aws.String("high")}}},
	}
	for _, tc := range params {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.sm.StartPipelineExecution(e.ctx, &sagemaker.StartPipelineExecutionInput{PipelineName: aws.String(pipe), PipelineParameters: tc.p})
			checkCode(t, err, "ValidationException")
		})
	}
}
