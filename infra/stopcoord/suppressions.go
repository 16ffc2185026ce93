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
		{"/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):(states|glue|batch|ecs|sagemaker|lambda|sqs):[^:]*:[^:]*:.+$/",
			"Cleanup and hand-off targets are the deployment's cleanupScope patterns, as its context writes them (the code enforces the same scope before every cleaner); a kind left out of the scope gets no grant."},
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
