package stack_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/rie"
	"github.com/stopcoord/stopcoord/local/stack"
	"github.com/stopcoord/stopcoord/local/testbed"
)

func TestMain(m *testing.M) { os.Exit(dynamodblocal.RunTests(m)) }

const (
	userARN = "arn:aws:lambda:us-east-1:123456789012:function:user-step"
	urlARN  = "arn:aws:lambda:us-east-1:123456789012:function:url-step"
)

// TestLambdaStepsRunAndStop starts the local stack from a template with
// one function and runs pipelines whose Lambda steps name that function,
// a user's bootstrap (-lambda ARN=path) and an HTTP endpoint (-lambda
// ARN=URL); then stops an execution while its Lambda step runs: the step
// is waited for, and the execution ends Stopped.
func TestLambdaStepsRunAndStop(t *testing.T) {
	procs.RequireTool(t, "moto_server", moto.InstallHint)
	if _, err := rie.Find(); err != nil {
		procs.Missing(t, err.Error())
	}
	ddb := dynamodblocal.SharedT(t)
	bin := t.TempDir()
	bootstrap := filepath.Join(bin, "stepfn", "bootstrap")
	if err := rie.Build("./testdata/stepfn", bootstrap); err != nil {
		t.Fatal(err)
	}
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"result":"from-url","name":"url-step"}`))
	}))
	defer endpoint.Close()

	logs := &lockedBuffer{}
	ctx := context.Background()
	s, err := stack.Start(ctx, stack.Config{
		Template: "testdata/template.json", BinDir: bin, GatewayAddr: "127.0.0.1:0", DynamoDBURL: ddb.URL,
		Lambdas:      []stack.Lambda{{ARN: userARN, Bootstrap: bootstrap}, {ARN: urlARN, URL: endpoint.URL}},
		FunctionLogs: logs,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sm := s.SageMakerClient()

	t.Run("each kind of target runs its step", func(t *testing.T) {
		arn := start(t, sm, lambdaStep("Own", stack.FunctionARN("stepfn"), `{"tag":"own"}`),
			lambdaStep("User", userARN, `{"tag":"user"}`), lambdaStep("URL", urlARN, `{"tag":"url"}`))
		waitStatus(t, sm, arn, smtypes.PipelineExecutionStatusSucceeded)
		want := map[string]string{"Own": "own", "User": "user", "URL": "from-url"}
		for _, step := range steps(t, sm, arn) {
			got := map[string]string{}
			for _, o := range step.Metadata.Lambda.OutputParameters {
				got[aws.ToString(o.Name)] = aws.ToString(o.Value)
			}
			if name := aws.ToString(step.StepName); got["result"] != want[name] {
				t.Errorf("step %s output %v, want result %s", name, got, want[name])
			}
		}
		for _, line := range []string{`[stepfn] {`, `"tag":"own"`, `[user-step] {`, `"tag":"user"`} {
			if !strings.Contains(logs.String(), line) {
				t.Errorf("the function logs lack %s:\n%s", line, logs.String())
			}
		}
	})

	t.Run("a stop waits for the running Lambda step", func(t *testing.T) {
		release := filepath.Join(t.TempDir(), "release")
		arn := start(t, sm, lambdaStep("Slow", userARN, fmt.Sprintf(`{"tag":"slow","waitFor":%q}`, release)))
		testbed.Eventually(t, "the slow step's function to be called", func() bool {
			if s := steps(t, sm, arn); len(s) == 1 && s[0].StepStatus == smtypes.StepStatusFailed {
				t.Fatalf("the slow step failed: %s", aws.ToString(s[0].FailureReason))
			}
			return strings.Contains(logs.String(), `"tag":"slow"`)
		})
		if _, err := sm.StopPipelineExecution(ctx, &sagemaker.StopPipelineExecutionInput{
			PipelineExecutionArn: aws.String(arn), ClientRequestToken: aws.String(fmt.Sprintf("stop-%032d", 1))}); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, sm, arn, smtypes.PipelineExecutionStatusStopping)
		if got := steps(t, sm, arn)[0].StepStatus; got != smtypes.StepStatusExecuting {
			t.Fatalf("the Lambda step is %s during the stop, want Executing (a Lambda step cannot be stopped)", got)
		}
		if err := os.WriteFile(release, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, sm, arn, smtypes.PipelineExecutionStatusStopped)
		if got := steps(t, sm, arn)[0].StepStatus; got != smtypes.StepStatusSucceeded {
			t.Fatalf("the Lambda step ended %s, want Succeeded", got)
		}
	})
}

func TestParseLambda(t *testing.T) {
	exe, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to stand for a bootstrap")
	}
	tests := []struct {
		in      string
		want    stack.Lambda
		wantErr string
	}{
		{in: userARN + "=" + exe, want: stack.Lambda{ARN: userARN, Bootstrap: exe}},
		{in: userARN + "=http://127.0.0.1:9000/invoke", want: stack.Lambda{ARN: userARN, URL: "http://127.0.0.1:9000/invoke"}},
		{in: userARN + ":live=" + exe, want: stack.Lambda{ARN: userARN + ":live", Bootstrap: exe}},
		{in: "no-target", wantErr: "want ARN="},
		{in: "arn:aws:sqs:us-east-1:123456789012:q=" + exe, wantErr: "not a Lambda function ARN"},
		{in: userARN + "=./no/such/bootstrap", wantErr: "no such file"},
		{in: userARN + "=" + filepath.Dir(exe), wantErr: "not an executable file"},
		{in: userARN + "=http://", wantErr: "not an http(s) URL"},
	}
	for _, tt := range tests {
		got, err := stack.ParseLambda(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseLambda(%q) error %v, want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLambda(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func lambdaStep(name, arn, args string) string {
	return fmt.Sprintf(`{"Name":%q,"Type":"Lambda","FunctionArn":%q,"Timeout":600,"Arguments":%s,`+
		`"OutputParameters":[{"OutputName":"result","OutputType":"String"}]}`, name, arn, args)
}

var seq struct {
	sync.Mutex
	n int
}

func start(t *testing.T, sm *sagemaker.Client, steps ...string) string {
	t.Helper()
	seq.Lock()
	seq.n++
	n := seq.n
	seq.Unlock()
	name := fmt.Sprintf("lambda-steps-%d", n)
	ctx := context.Background()
	if _, err := sm.CreatePipeline(ctx, &sagemaker.CreatePipelineInput{
		PipelineName:       aws.String(name),
		PipelineDefinition: aws.String(`{"Version":"2020-12-01","Parameters":[],"Steps":[` + strings.Join(steps, ",") + `]}`),
		RoleArn:            aws.String("arn:aws:iam::123456789012:role/pipelines"),
		ClientRequestToken: aws.String(fmt.Sprintf("create-%032d", n)),
	}); err != nil {
		t.Fatal(err)
	}
	out, err := sm.StartPipelineExecution(ctx, &sagemaker.StartPipelineExecutionInput{
		PipelineName: aws.String(name), ClientRequestToken: aws.String(fmt.Sprintf("start-%032d", n))})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.PipelineExecutionArn)
}

func waitStatus(t *testing.T, sm *sagemaker.Client, arn string, want smtypes.PipelineExecutionStatus) {
	t.Helper()
	var got smtypes.PipelineExecutionStatus
	testbed.Eventually(t, fmt.Sprintf("%s to be %s", arn, want), func() bool {
		out, err := sm.DescribePipelineExecution(context.Background(), &sagemaker.DescribePipelineExecutionInput{PipelineExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		got = out.PipelineExecutionStatus
		if got != want && (got == smtypes.PipelineExecutionStatusFailed || got == smtypes.PipelineExecutionStatusSucceeded) {
			t.Fatalf("%s ended %s (%s), want %s; steps %+v", arn, got, aws.ToString(out.FailureReason), want, describeSteps(t, sm, arn))
		}
		return got == want
	})
}

func steps(t *testing.T, sm *sagemaker.Client, arn string) []smtypes.PipelineExecutionStep {
	t.Helper()
	out, err := sm.ListPipelineExecutionSteps(context.Background(), &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	return out.PipelineExecutionSteps
}

func describeSteps(t *testing.T, sm *sagemaker.Client, arn string) string {
	var b strings.Builder
	for _, s := range steps(t, sm, arn) {
		fmt.Fprintf(&b, "%s=%s(%s) ", aws.ToString(s.StepName), s.StepStatus, aws.ToString(s.FailureReason))
	}
	return b.String()
}

// lockedBuffer is a bytes.Buffer safe for the stack's writers and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
