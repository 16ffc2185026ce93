package stopcoord

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/stopevents"
)

// pipelineARNs are the ARNs of the allowed pipelines and of their
// executions, for IAM. SageMaker lower-cases pipeline names in ARNs, and
// IAM compares ARNs case-sensitively, so the patterns are lower-cased too.
// A path.Match "*" or "?" is also an IAM wildcard.
func pipelineARNs(stack awscdk.Stack, patterns []string) (pipelines, executions []*string) {
	for _, p := range patterns {
		p = strings.ToLower(p)
		base := "arn:" + *stack.Partition() + ":sagemaker:" + *stack.Region() + ":" + *stack.Account() + ":pipeline/" + p
		pipelines = append(pipelines, jsii.String(base))
		executions = append(executions, jsii.String(base+"/execution/*"))
	}
	return pipelines, executions
}

// statement is a shorthand for an allow statement.
func statement(actions []string, resources []*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings(actions...),
		Resources: &resources,
	})
}

// A grant gives a function one kind of access; each row of the function
// table lists its grants.
type grant func(w *wiring, fn awslambda.Function)

// grantLedger: read and write the ledger table and its indexes.
func grantLedger(w *wiring, fn awslambda.Function) { w.out.Ledger.GrantReadWriteData(fn) }

// grantReadExecutions: read the allowed pipelines and their executions.
func grantReadExecutions(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"}, w.executions))
	fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipeline"}, w.pipelines))
}

// grantStopExecutions: stop executions of the allowed pipelines.
func grantStopExecutions(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:StopPipelineExecution"}, w.executions))
}

// grantListExecutions: list the running executions of an allowed pipeline
// (bulk stops).
func grantListExecutions(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:ListPipelineExecutions"}, w.pipelines))
}

// grantSendToStopQueue: fan a bulk stop out through the stop queue.
func grantSendToStopQueue(w *wiring, fn awslambda.Function) {
	w.out.StopQueue.Queue.GrantSendMessages(fn)
}

// grantAnswerTokens: answer callback tokens (force stops, the consumer,
// the sweeper). The request names only the token, not an ARN, so the
// action cannot be scoped to a resource.
func grantAnswerTokens(_ *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:SendPipelineExecutionStepFailure", "sagemaker:SendPipelineExecutionStepSuccess"}, []*string{jsii.String("*")}))
}

// grantPutStopCompleted: publish Stop Completed events on the default bus,
// and nothing else there (the source and detail type are conditions).
func grantPutStopCompleted(w *wiring, fn awslambda.Function) {
	bus := "arn:" + *w.stack.Partition() + ":events:" + *w.stack.Region() + ":" + *w.stack.Account() + ":event-bus/default"
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("events:PutEvents"),
		Resources: jsii.Strings(bus),
		Conditions: &map[string]any{"StringEquals": map[string]any{
			"events:source":      stopevents.Source,
			"events:detail-type": stopevents.DetailTypeStopCompleted,
		}},
	}))
}

// grantCleaners lets a function stop what callback steps start and hand
// work to step workers. Those resources are named at run time, in a step's
// arguments or by its worker, so the grants are scoped to this account and
// region rather than to names.
func grantCleaners(w *wiring, fn awslambda.Function) {
	stack := w.stack
	arn := func(service, resource string) *string {
		return jsii.String("arn:" + *stack.Partition() + ":" + service + ":" + *stack.Region() + ":" + *stack.Account() + ":" + resource)
	}
	grants := []struct {
		actions  []string
		resource *string
	}{
		{[]string{"states:StopExecution"}, arn("states", "execution:*")},
		{[]string{"glue:BatchStopJobRun"}, arn("glue", "job/*")},
		{[]string{"batch:TerminateJob"}, arn("batch", "job/*")},
		{[]string{"ecs:StopTask"}, arn("ecs", "task/*")},
		{[]string{"sagemaker:StopTrainingJob"}, arn("sagemaker", "training-job/*")},
		{[]string{"sagemaker:StopProcessingJob"}, arn("sagemaker", "processing-job/*")},
		{[]string{"sagemaker:StopTransformJob"}, arn("sagemaker", "transform-job/*")},
		{[]string{"lambda:InvokeFunction"}, arn("lambda", "function:*")},
		{[]string{"sqs:SendMessage"}, arn("sqs", "*")},
	}
	for _, g := range grants {
		fn.AddToRolePolicy(statement(g.actions, []*string{g.resource}))
	}
}
