package callback

import (
	"slices"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Resource kinds: each names the cleaner that stops it.
const (
	KindLambdaCleanup          = "lambda-cleanup"           // ID: function name or ARN, invoked with the callback context
	KindSFNExecution           = "sfn-execution"            // ID: execution ARN
	KindGlueJobRun             = "glue-job-run"             // ID: run id; Params[ParamJobName]
	KindBatchJob               = "batch-job"                // ID: job id
	KindECSTask                = "ecs-task"                 // ID: task ARN; Params[ParamCluster]
	KindSageMakerTrainingJob   = "sagemaker-training-job"   // ID: job name
	KindSageMakerProcessingJob = "sagemaker-processing-job" // ID: job name
	KindSageMakerTransformJob  = "sagemaker-transform-job"  // ID: job name
)

// Resource parameters some kinds need besides the ID.
const (
	ParamJobName = "jobName" // glue-job-run
	ParamCluster = "cluster" // ecs-task
)

// Kinds lists every resource kind, in a stable order.
func Kinds() []string {
	return []string{KindLambdaCleanup, KindSFNExecution, KindGlueJobRun, KindBatchJob, KindECSTask,
		KindSageMakerTrainingJob, KindSageMakerProcessingJob, KindSageMakerTransformJob}
}

// requiredParams are the parameters each kind cannot be cleaned without.
var requiredParams = map[string][]string{
	KindGlueJobRun: {ParamJobName},
	KindECSTask:    {ParamCluster},
}

// Limits on what a worker may register.
const (
	MaxResourceIDLength = 2048
	MaxPlanLength       = 50 // resources per token: a step starts a handful, not hundreds
)

// ValidateResource checks that a resource names a known kind, has an ID and
// carries the parameters its cleaner needs. Errors are EInvalid.
func ValidateResource(r pipeline.Resource) error {
	if !slices.Contains(Kinds(), r.Kind) {
		return pipeline.Errorf(pipeline.EInvalid, "resource kind %q is not one of %v", truncate(r.Kind, 40), Kinds())
	}
	if r.ID == "" || len(r.ID) > MaxResourceIDLength {
		return pipeline.Errorf(pipeline.EInvalid, "%s resource needs an id of 1-%d characters", r.Kind, MaxResourceIDLength)
	}
	for _, p := range requiredParams[r.Kind] {
		if r.Params[p] == "" {
			return pipeline.Errorf(pipeline.EInvalid, "%s resource %s needs params.%s", r.Kind, truncate(r.ID, 80), p)
		}
	}
	return nil
}

// MergePlan appends the resources of more that plan lacks (by kind and
// ID), keeping plan's order: registering the same resource twice stores it
// once.
func MergePlan(plan, more []pipeline.Resource) []pipeline.Resource {
	out := slices.Clone(plan)
	for _, r := range more {
		if !slices.ContainsFunc(out, func(have pipeline.Resource) bool { return have.Key() == r.Key() }) {
			out = append(out, r)
		}
	}
	return out
}

// ScopeKinds are the kinds a cleanup scope may name: every resource kind,
// and the worker targets a step's arguments name.
func ScopeKinds() []string {
	return append(Kinds(), pipeline.ScopeWorkerLambda, pipeline.ScopeWorkerQueue)
}

// ScopeSubject is what a cleanup scope's patterns are matched against: the
// resource's ID, except for a Glue job run, whose job name says what it is.
func ScopeSubject(r pipeline.Resource) string {
	if r.Kind == KindGlueJobRun {
		return r.Params[ParamJobName]
	}
	return r.ID
}
