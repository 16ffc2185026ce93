package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
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

// grantCleaners lets a function stop what callback steps start and hand
// work to step workers. Those resources are named at run time, in a step's
// arguments or by its worker, so the grants are scoped to this account and
// region rather than to names.
func grantCleaners(stack awscdk.Stack, fn awslambda.Function) {
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
