package pipeline

import "slices"

// Resource kinds: each names the cleaner that stops it. They are a
// Resource's Kind, not a step's (StepKind).
const (
	ResourceLambdaCleanup          = "lambda-cleanup"           // ID: function name or ARN, invoked with the callback context
	ResourceSFNExecution           = "sfn-execution"            // ID: execution ARN
	ResourceGlueJobRun             = "glue-job-run"             // ID: run id; Params[ParamJobName]
	ResourceBatchJob               = "batch-job"                // ID: job id
	ResourceECSTask                = "ecs-task"                 // ID: task ARN; Params[ParamCluster]
	ResourceSageMakerTrainingJob   = "sagemaker-training-job"   // ID: job name
	ResourceSageMakerProcessingJob = "sagemaker-processing-job" // ID: job name
	ResourceSageMakerTransformJob  = "sagemaker-transform-job"  // ID: job name
)

// Resource parameters some kinds need besides the ID.
const (
	ParamJobName = "jobName" // glue-job-run
	ParamCluster = "cluster" // ecs-task
)

// ResourceKinds lists every resource kind, in a stable order.
func ResourceKinds() []string {
	return []string{ResourceLambdaCleanup, ResourceSFNExecution, ResourceGlueJobRun, ResourceBatchJob, ResourceECSTask,
		ResourceSageMakerTrainingJob, ResourceSageMakerProcessingJob, ResourceSageMakerTransformJob}
}

// requiredParams are the parameters each kind cannot be cleaned without.
var requiredParams = map[string][]string{
	ResourceGlueJobRun: {ParamJobName},
	ResourceECSTask:    {ParamCluster},
}

// Limits on what a worker may register.
const (
	MaxResourceIDLength = 2048
	MaxPlanLength       = 50 // resources per token: a step starts a handful, not hundreds
)

// ValidateResource checks that a resource names a known kind, has an ID and
// carries the parameters its cleaner needs. Errors are EInvalid.
func ValidateResource(r Resource) error {
	if !slices.Contains(ResourceKinds(), r.Kind) {
		return Errorf(EInvalid, "resource kind %q is not one of %v", truncate(r.Kind, 40), ResourceKinds())
	}
	if r.ID == "" || len(r.ID) > MaxResourceIDLength {
		return Errorf(EInvalid, "%s resource needs an id of 1-%d characters", r.Kind, MaxResourceIDLength)
	}
	for _, p := range requiredParams[r.Kind] {
		if r.Params[p] == "" {
			return Errorf(EInvalid, "%s resource %s needs params.%s", r.Kind, truncate(r.ID, 80), p)
		}
	}
	return nil
}

// MergePlan appends the resources of more that plan lacks (by kind and
// ID), keeping plan's order: registering the same resource twice stores it
// once.
func MergePlan(plan, more []Resource) []Resource {
	out := slices.Clone(plan)
	for _, r := range more {
		if !slices.ContainsFunc(out, func(have Resource) bool { return have.Key() == r.Key() }) {
			out = append(out, r)
		}
	}
	return out
}

// ScopeKinds are the kinds a cleanup scope may name: every resource kind,
// and the worker targets a step's arguments name.
func ScopeKinds() []string {
	return append(ResourceKinds(), ScopeWorkerLambda, ScopeWorkerQueue)
}

// ScopeSubject is what a cleanup scope's patterns are matched against: the
// resource's ID, except for a Glue job run, whose job name says what it is.
func ScopeSubject(r Resource) string {
	if r.Kind == ResourceGlueJobRun {
		return r.Params[ParamJobName]
	}
	return r.ID
}
