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

// Each grant gives exactly the actions the code calls, and
// TestEachFunctionGetsOnlyWhatItsCodeCalls holds every row of the function
// table to that: a grant nobody calls, or a call nobody granted, fails it.

// grantLedger: the item reads and writes the ledger makes, on its table
// and indexes (CDK's GrantReadWriteData would add scans, batches, deletes
// and stream reads nothing calls).
func grantLedger(w *wiring, fn awslambda.Function) {
	table := w.out.Ledger.TableArn()
	fn.AddToRolePolicy(statement([]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
		[]*string{table, jsii.String(*table + "/index/*")}))
}

// grantReadExecutions: read the executions of the allowed pipelines and
// list their steps.
func grantReadExecutions(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipelineExecution", "sagemaker:ListPipelineExecutionSteps"}, w.executions))
}

// grantListSteps: list the steps of executions of the allowed pipelines
// (whether a token is the step's, whether it still waits).
func grantListSteps(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:ListPipelineExecutionSteps"}, w.executions))
}

// grantReadDefinitions: the definition an execution ran, which gives its
// Lambda steps' timeouts.
func grantReadDefinitions(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:DescribePipelineDefinitionForExecution"}, w.executions))
}

// grantReadExecutionRuns: what an execution ran with, for the execution
// view (stop-api): its resolved parameters, and its pipeline version's
// display name (DescribePipeline with a PipelineVersionId).
func grantReadExecutionRuns(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sagemaker:ListPipelineParametersForExecution"}, w.executions))
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

// grantSendToStopQueue: fan a bulk stop out through the stop queue (one
// SendMessage or SendMessageBatch; CDK's GrantSendMessages would add
// queue reads nothing calls).
func grantSendToStopQueue(w *wiring, fn awslambda.Function) {
	fn.AddToRolePolicy(statement([]string{"sqs:SendMessage"}, []*string{w.out.StopQueue.Queue.QueueArn()}))
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

// grantCleaners lets a function stop what callback steps start, inside
// the cleanup scope only: each kind's patterns become the resources of its
// action (an IAM "*" and "?" mean what the scope's globs mean). A kind the
// scope leaves out gets no grant, so the default, empty scope grants
// nothing. The code enforces the same scope before each cleaner; IAM is
// the second wall.
func grantCleaners(w *wiring, fn awslambda.Function) {
	for _, g := range cleanerGrants(w.stack, w.props.Settings.CleanupScope) {
		if !g.handOff {
			fn.AddToRolePolicy(statement(g.actions, g.resources))
		}
	}
}

// grantHandOff lets a function hand a step's work to the workers the
// cleanup scope allows (worker-lambda, worker-queue): the callback
// function only, the one that takes start messages.
func grantHandOff(w *wiring, fn awslambda.Function) {
	for _, g := range cleanerGrants(w.stack, w.props.Settings.CleanupScope) {
		if g.handOff {
			fn.AddToRolePolicy(statement(g.actions, g.resources))
		}
	}
}

type cleanerGrant struct {
	actions   []string
	resources []*string
	handOff   bool // a worker hand-off, not a cleaner
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
			handOff := k.kind == pipeline.ScopeWorkerLambda || k.kind == pipeline.ScopeWorkerQueue
			grants = append(grants, cleanerGrant{actions: k.actions, resources: resources, handOff: handOff})
		}
	}
	return grants
}
