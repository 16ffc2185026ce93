package cleanup

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// TaskStopper stops ECS tasks; *ecs.Client satisfies it.
type TaskStopper interface {
	StopTask(ctx context.Context, in *ecs.StopTaskInput, opts ...func(*ecs.Options)) (*ecs.StopTaskOutput, error)
}

var _ TaskStopper = (*ecs.Client)(nil)

// ECS stops ECS tasks (ID: the task ARN; Params["cluster"]: its cluster).
type ECS struct{ Client TaskStopper }

// Kind implements Cleaner.
func (ECS) Kind() string { return pipeline.ResourceECSTask }

// Clean stops the task. Stopping a stopped task succeeds; a task or cluster
// ECS no longer knows is gone.
func (c ECS) Clean(ctx context.Context, r pipeline.Resource, cc callback.Context) error {
	_, err := c.Client.StopTask(ctx, &ecs.StopTaskInput{
		Cluster: aws.String(r.Params[pipeline.ParamCluster]),
		Task:    aws.String(r.ID),
		Reason:  aws.String(truncate(cause(cc), 255)),
	})
	switch {
	case err == nil,
		apiErrorIs(err, []string{"ClusterNotFoundException"}),
		apiErrorIs(err, []string{"InvalidParameterException"}, "not found", "does not exist"):
		return nil
	}
	return err
}
