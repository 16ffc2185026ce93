package cleanup

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/batch"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// JobTerminator terminates Batch jobs; *batch.Client satisfies it.
type JobTerminator interface {
	TerminateJob(ctx context.Context, in *batch.TerminateJobInput, opts ...func(*batch.Options)) (*batch.TerminateJobOutput, error)
}

var _ JobTerminator = (*batch.Client)(nil)

// Batch terminates Batch jobs (ID: the job id). TerminateJob also cancels
// a job that has not started; a job that already ended is left as it is
// and the call succeeds.
type Batch struct{ Client JobTerminator }

// Kind implements Cleaner.
func (Batch) Kind() string { return pipeline.ResourceBatchJob }

// Clean terminates the job.
func (c Batch) Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error {
	_, err := c.Client.TerminateJob(ctx, &batch.TerminateJobInput{JobId: aws.String(r.ID), Reason: aws.String(truncate(cause(cc), 1024))})
	if err != nil && !apiErrorIs(err, []string{"ClientException"}, "does not exist", "not found") {
		return err
	}
	return nil
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
