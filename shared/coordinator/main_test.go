package coordinator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/stopcoord/stopcoord/local/testbed"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func TestMain(m *testing.M) { os.Exit(testbed.RunTests(m)) }

const account = "123456789012"

// countingSageMaker counts StopPipelineExecution calls on the way to the
// emulator.
type countingSageMaker struct {
	*sagemaker.Client
	stops atomic.Int64
}

func (c *countingSageMaker) StopPipelineExecution(ctx context.Context, in *sagemaker.StopPipelineExecutionInput, opts ...func(*sagemaker.Options)) (*sagemaker.StopPipelineExecutionOutput, error) {
	c.stops.Add(1)
	return c.Client.StopPipelineExecution(ctx, in, opts...)
}

type world struct {
	*testbed.Bed
	sm    *countingSageMaker
	coord *coordinator.Service
	stops string // the stop queue URL
}

func newWorld(t *testing.T, opts ...testbed.Option) *world {
	t.Helper()
	b := testbed.New(t, opts...)
	w := &world{Bed: b, sm: &countingSageMaker{Client: b.SageMaker}, stops: b.Queue("stops")}
	w.coord = coordinator.New(coordinator.Deps{
		Scope:        everything,
		Ledger:       b.Ledger,
		SageMaker:    w.sm,
		SQS:          b.SQS,
		StopQueueURL: w.stops,
		Access:       pipeline.AllowList{Accounts: []string{account}},
	})
	return w
}

func definition(steps ...string) string {
	s := `{"Version":"2020-12-01","Parameters":[],"Steps":[`
	for i, step := range steps {
		if i > 0 {
			s += ","
		}
		s += step
	}
	return s + "]}"
}

func trainingStep(name string) string {
	return fmt.Sprintf(`{"Name":%q,"Type":"Training","Arguments":{"AlgorithmSpecification":{"TrainingImage":"img"}}}`, name)
}

func callbackStep(name, queue string) string {
	return fmt.Sprintf(`{"Name":%q,"Type":"Callback","SqsQueueUrl":%q,"Arguments":{"glueJobRunId":"jr_1"},"OutputParameters":[{"OutputName":"out","OutputType":"String"}]}`, name, queue)
}

func lambdaStep(name string, timeoutSeconds int) string {
	return fmt.Sprintf(`{"Name":%q,"Type":"Lambda","FunctionArn":"arn:aws:lambda:us-east-1:123456789012:function:fn","Timeout":%d,"Arguments":{"n":1},"OutputParameters":[]}`, name, timeoutSeconds)
}

func mustARN(t *testing.T, s string) pipeline.ExecutionARN {
	t.Helper()
	a, err := pipeline.ParseExecutionARN(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// everything is a cleanup scope with every kind in it, for tests about
// something else.
var everything = func() pipeline.CleanupScope {
	m := map[string][]string{}
	for _, k := range pipeline.ScopeKinds() {
		m[k] = []string{"*"}
	}
	raw, _ := json.Marshal(m)
	s, err := pipeline.ParseCleanupScope(string(raw), pipeline.ScopeKinds())
	if err != nil {
		panic(err)
	}
	return s
}()
