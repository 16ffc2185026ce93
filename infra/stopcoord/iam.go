package stopcoord

import (
	"encoding/json"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/pipeline"
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

// grantReadExecutions: read the executions of the allowed pipelines.
func grantReadExecutions(w *wiring, fn awslambda.Function) {
	// The definition an execution ran gives its Lambda steps' timeouts.
	fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps", "sagemaker:DescribePipelineDefinitionForExecution"}, w.executions))
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
// work to step workers, inside the cleanup scope only: each kind's
// patterns become the resources of its action (an IAM "*" and "?" mean
// what the scope's globs mean). A kind the scope leaves out gets no
// grant, so the default, empty scope grants nothing. The code enforces the
// same scope before each cleaner; IAM is the second wall.
func grantCleaners(w *wiring, fn awslambda.Function) {
	for _, g := range cleanerGrants(w.stack, w.props.Settings.CleanupScope) {
		fn.AddToRolePolicy(statement(g.actions, g.resources))
	}
}

type cleanerGrant struct {
	actions   []string
	resources []*string
}

// cleanerGrants turns the cleanup scope into grants, one per kind in it.
func cleanerGrants(stack awscdk.Stack, scopeJSON string) []cleanerGrant {
	var scope map[string][]string
	if scopeJSON != "" {
		_ = json.Unmarshal([]byte(scopeJSON), &scope) // validated at synth
	}
	arn := func(service, resource string) *string {
		return jsii.String("arn:" + *stack.Partition() + ":" + service + ":" + *stack.Region() + ":" + *stack.Account() + ":" + resource)
	}
	asIs := func(p string) *string { return jsii.String(p) }
	orARN := func(service, prefix string) func(string) *string {
		return func(p string) *string {
			if strings.HasPrefix(p, "arn:") {
				return jsii.String(p)
			}
			return arn(service, prefix+p)
		}
	}
	// SageMaker lower-cases job names in ARNs; IAM compares them as they are.
	sagemakerJob := func(kind string) func(string) *string {
		return func(p string) *string { return arn("sagemaker", kind+"/"+strings.ToLower(p)) }
	}
	// A queue URL's last segment is the queue's name in its ARN.
	queue := func(p string) *string { return arn("sqs", p[strings.LastIndex(p, "/")+1:]) }
	kinds := []struct {
		kind     string
		actions  []string
		resource func(pattern string) *string
	}{
		{pipeline.ResourceSFNExecution, []string{"states:StopExecution"}, asIs},
		{pipeline.ResourceGlueJobRun, []string{"glue:BatchStopJobRun"}, orARN("glue", "job/")},
		{pipeline.ResourceBatchJob, []string{"batch:TerminateJob"}, orARN("batch", "job/")},
		{pipeline.ResourceECSTask, []string{"ecs:StopTask"}, asIs},
		{pipeline.ResourceSageMakerTrainingJob, []string{"sagemaker:StopTrainingJob"}, sagemakerJob("training-job")},
		{pipeline.ResourceSageMakerProcessingJob, []string{"sagemaker:StopProcessingJob"}, sagemakerJob("processing-job")},
		{pipeline.ResourceSageMakerTransformJob, []string{"sagemaker:StopTransformJob"}, sagemakerJob("transform-job")},
		{pipeline.ResourceLambdaCleanup, []string{"lambda:InvokeFunction"}, orARN("lambda", "function:")},
		{pipeline.ScopeWorkerLambda, []string{"lambda:InvokeFunction"}, orARN("lambda", "function:")},
		{pipeline.ScopeWorkerQueue, []string{"sqs:SendMessage"}, queue},
	}
	var grants []cleanerGrant
	for _, k := range kinds {
		var resources []*string
		for _, p := range scope[k.kind] {
			resources = append(resources, k.resource(p))
		}
		if len(resources) > 0 {
			grants = append(grants, cleanerGrant{actions: k.actions, resources: resources})
		}
	}
	return grants
}
