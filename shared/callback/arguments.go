package callback

import (
	"fmt"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Step argument keys a pipeline author adds to a callback step's inputs to
// tell stopcoord who does the work and what to clean up on a stop. SageMaker
// passes callback arguments as flat primitives, so each is one string.
const (
	ArgWorkerLambda           = "stopcoord_worker_lambda"  // function to invoke asynchronously with the callback context
	ArgWorkerQueue            = "stopcoord_worker_queue"   // SQS queue URL to send the callback context to
	ArgCleanupLambda          = "stopcoord_cleanup_lambda" // function invoked synchronously on Stopping
	ArgSFNExecutionARN        = "stopcoord_sfn_execution_arn"
	ArgGlueJobName            = "stopcoord_glue_job_name"
	ArgGlueJobRunID           = "stopcoord_glue_job_run_id"
	ArgBatchJobID             = "stopcoord_batch_job_id"
	ArgECSCluster             = "stopcoord_ecs_cluster"
	ArgECSTaskARN             = "stopcoord_ecs_task_arn"
	ArgSageMakerTrainingJob   = "stopcoord_sagemaker_training_job"
	ArgSageMakerProcessingJob = "stopcoord_sagemaker_processing_job"
	ArgSageMakerTransformJob  = "stopcoord_sagemaker_transform_job"
)

// Worker is who does a callback step's work.
type Worker struct {
	LambdaFunction string // invoke asynchronously
	QueueURL       string // send to the work queue
}

// None reports whether the arguments name no worker.
func (w Worker) None() bool { return w.LambdaFunction == "" && w.QueueURL == "" }

// Plan is what a step's arguments say about its work and its cleanup.
type Plan struct {
	Worker    Worker
	Resources []pipeline.Resource
}

// single-ID arguments and the kind each names.
var idArguments = []struct{ arg, kind string }{
	{ArgCleanupLambda, pipeline.ResourceLambdaCleanup},
	{ArgSFNExecutionARN, pipeline.ResourceSFNExecution},
	{ArgBatchJobID, pipeline.ResourceBatchJob},
	{ArgSageMakerTrainingJob, pipeline.ResourceSageMakerTrainingJob},
	{ArgSageMakerProcessingJob, pipeline.ResourceSageMakerProcessingJob},
	{ArgSageMakerTransformJob, pipeline.ResourceSageMakerTransformJob},
}

// PlanFromArguments reads the worker and the cleanup plan from a step's
// arguments. Arguments without the stopcoord_ keys give an empty plan; a
// stopcoord_ key with a value that is not a string, or half of a pair
// (a Glue run id without its job name), is an EInvalid error, because a
// plan read wrongly would leave a resource running after a stop.
func PlanFromArguments(args map[string]any) (Plan, error) {
	var p Plan
	str := func(key string) (string, error) {
		v, ok := args[key]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", pipeline.Errorf(pipeline.EInvalid, "argument %s must be a string, got %T", key, v)
		}
		return s, nil
	}
	var errs []error
	get := func(key string) string {
		s, err := str(key)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	}
	p.Worker = Worker{LambdaFunction: get(ArgWorkerLambda), QueueURL: get(ArgWorkerQueue)}
	for _, a := range idArguments {
		if id := get(a.arg); id != "" {
			p.Resources = append(p.Resources, pipeline.Resource{Kind: a.kind, ID: id})
		}
	}
	if job, run := get(ArgGlueJobName), get(ArgGlueJobRunID); job != "" || run != "" {
		p.Resources = append(p.Resources, pipeline.Resource{Kind: pipeline.ResourceGlueJobRun, ID: run, Params: map[string]string{pipeline.ParamJobName: job}})
	}
	if cluster, task := get(ArgECSCluster), get(ArgECSTaskARN); cluster != "" || task != "" {
		p.Resources = append(p.Resources, pipeline.Resource{Kind: pipeline.ResourceECSTask, ID: task, Params: map[string]string{pipeline.ParamCluster: cluster}})
	}
	if len(errs) > 0 {
		return Plan{}, errs[0]
	}
	for i, r := range p.Resources {
		if err := pipeline.ValidateResource(r); err != nil {
			return Plan{}, fmt.Errorf("read cleanup plan from the step arguments: %w", err)
		}
		p.Resources[i].RegisteredBy = RegisteredByArguments
	}
	return p, nil
}

// RegisteredByArguments marks the resources a plan read from the step's
// arguments, as against those a worker registered.
const RegisteredByArguments = "step arguments"
