package cleanup

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// JobRunStopper stops Glue job runs; *glue.Client satisfies it.
type JobRunStopper interface {
	BatchStopJobRun(ctx context.Context, in *glue.BatchStopJobRunInput, opts ...func(*glue.Options)) (*glue.BatchStopJobRunOutput, error)
}

var _ JobRunStopper = (*glue.Client)(nil)

// Glue stops Glue job runs (ID: the run id; Params["jobName"]: its job).
type Glue struct{ Client JobRunStopper }

// Kind implements Cleaner.
func (Glue) Kind() string { return pipeline.ResourceGlueJobRun }

// Clean asks Glue to stop the run. BatchStopJobRun reports per-run errors in
// its output rather than failing the call; a run that is no longer running
// or does not exist is nothing to stop.
func (c Glue) Clean(ctx context.Context, r pipeline.Resource, _ callback.Context) error {
	job := r.Params[pipeline.ParamJobName]
	out, err := c.Client.BatchStopJobRun(ctx, &glue.BatchStopJobRunInput{JobName: aws.String(job), JobRunIds: []string{r.ID}})
	if err != nil {
		if apiErrorIs(err, []string{"EntityNotFoundException"}) {
			return nil
		}
		return err
	}
	for _, e := range out.Errors {
		if aws.ToString(e.JobRunId) != r.ID || e.ErrorDetail == nil {
			continue
		}
		code, msg := aws.ToString(e.ErrorDetail.ErrorCode), aws.ToString(e.ErrorDetail.ErrorMessage)
		if code == "EntityNotFoundException" || finishedMessage(msg) {
			return nil
		}
		return fmt.Errorf("glue refused to stop run %s of job %s: %s: %s", r.ID, job, code, msg)
	}
	return nil
}

// finishedMessage recognises a service's words for "it already ended".
func finishedMessage(msg string) bool {
	msg = strings.ToLower(msg)
	for _, f := range []string{"not running", "already", "not in progress", "terminal state"} {
		if strings.Contains(msg, f) {
			return true
		}
	}
	return false
}
