package stopcoord

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// suppressWildcards records, with a reason each, the wildcard resources a
// function's policy needs and cdk-nag's AwsSolutions-IAM5 flags. Each names
// exactly the resources it accepts; anything else still fails the check.
func suppressWildcards(fn awslambda.Function) {
	reasons := []struct{ appliesTo, reason string }{
		{"/^Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:pipeline\\/[^:]*$/",
			"Scoped to the allowedPipelines patterns of this deployment; SageMaker generates execution ids, so executions of an allowed pipeline are matched with /execution/*."},
		{"/^Resource::<LedgerTable[0-9A-F]+\\.Arn>\\/index\\/\\*$/",
			"The ledger's indexes (lookup, stopping, active) of the one table this stack owns."},
		{"/^Resource::arn:<AWS::Partition>:(states|glue|batch|ecs|sagemaker|lambda|sqs):<AWS::Region>:<AWS::AccountId>:(execution:\\*|job\\/\\*|task\\/\\*|training-job\\/\\*|processing-job\\/\\*|transform-job\\/\\*|function:\\*|\\*)$/",
			"Cleanup and hand-off targets (Step Functions executions, Glue runs, Batch jobs, ECS tasks, SageMaker jobs, cleanup and worker Lambdas and queues) are named at run time by each callback step; scoped to this account and region."},
		{"/^Resource::\\*$/",
			"X-Ray's PutTraceSegments and PutTelemetryRecords, and SendPipelineExecutionStep*, have no resource-level permissions: their requests name no ARN."},
	}
	var list []*cdknag.NagPackSuppression
	for _, r := range reasons {
		list = append(list, &cdknag.NagPackSuppression{
			Id:        jsii.String("AwsSolutions-IAM5"),
			Reason:    jsii.String(r.reason),
			AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(r.appliesTo)}},
		})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(fn.Role(), &list, jsii.Bool(true))
}
