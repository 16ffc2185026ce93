package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
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
