package emulator_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
)

// TestBadInputNeverFails5xx sends odd bodies to every operation: each must
// get a 2xx or a 4xx JSON error, never a 5xx (a recovered panic is a 500).
func TestBadInputNeverFails5xx(t *testing.T) {
	t.Parallel()
	e := newBareEnv(t)
	ops := []string{"CreatePipeline", "DescribePipeline", "DeletePipeline", "ListPipelines", "StartPipelineExecution",
		"DescribePipelineExecution", "ListPipelineExecutions", "ListPipelineExecutionSteps", "StopPipelineExecution",
		"SendPipelineExecutionStepSuccess", "SendPipelineExecutionStepFailure", "UpdatePipeline", "ListPipelineVersions",
		"UpdatePipelineVersion", "UpdatePipelineExecution", "RetryPipelineExecution", "DescribePipelineDefinitionForExecution",
		"ListPipelineParametersForExecution"}
	bodies := []string{``, `null`, `[]`, `"x"`, `{}`, `{"PipelineName":""}`, `{"PipelineParameters":[{}],"PipelineName":"p"}`,
		`{"OutputParameters":[null],"CallbackToken":"abcdefghij"}`, `{"Tags":[{}]}`, `{"MaxResults":-1,"NextToken":"%%%"}`,
		`{"PipelineExecutionArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/"}`,
		`{"PipelineName":"p","PipelineDefinition":"{\"Version\":\"1\",\"Steps\":[{\"Name\":\"a\",\"Type\":\"Condition\",\"Arguments\":{\"IfSteps\":[null]}}]}","RoleArn":"` + roleArn + `"}`,
		`{"CreatedAfter":"yesterday"}`, `{"CreatedAfter":1e400}`, `{"PipelineVersionId":1.5}`, `{"PipelineVersionId":99999999999999999999}`,
		`{"SelectiveExecutionConfig":{"SelectedSteps":[null]}}`, `{"ParallelismConfiguration":null}`, `{"PipelineArn":"arn:aws:sagemaker:us-east-1:aws:pipeline/p","PipelineVersionId":1}`}
	for _, op := range ops {
		for _, body := range bodies {
			req, _ := http.NewRequest("POST", e.url+"/", strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "SageMaker."+op)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Errorf("%s %s: %d %s", op, body, resp.StatusCode, b)
			}
		}
	}
}

func TestOptionsValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opts emulator.Options
		want string
	}{
		{"status key", emulator.Options{Switches: emulator.Switches{StatusKey: "STATUS"}}, "status key"},
		{"rate above 1", emulator.Options{Switches: emulator.Switches{DuplicateEvents: 2}}, "duplicate events"},
		{"unknown fault operation", emulator.Options{Faults: map[string]emulator.Fault{"CreateModel": {}}}, "not an emulated operation"},
		{"bad lambda URL", emulator.Options{Lambda: map[string]emulator.LambdaEndpoint{"*": {URL: "localhost:9000"}}}, "lambda endpoint"},
		{"negative time scale", emulator.Options{TimeScale: -1}, "time scale"},
		{"account", emulator.Options{AccountID: "abc"}, "account id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := emulator.New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %q", err, tc.want)
			}
		})
	}
}
