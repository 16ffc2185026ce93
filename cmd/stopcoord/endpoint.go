package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/stopcoord/stopcoord/client"
)

// Environment variables the CLI reads.
const (
	envEndpoint = "STOPCOORD_ENDPOINT"
	envStack    = "STOPCOORD_STACK"
)

// DefaultStackName is the CDK app's stack name.
const DefaultStackName = "StopCoord"

// apiOutput is the stack output holding the API's URL (infra/stack.go).
const apiOutput = "ApiUrl"

// target is where the API is: the flags every API command shares.
type target struct {
	endpoint, stack string
}

func (c *cli) targetFlags(fs *flag.FlagSet) *target {
	t := &target{}
	fs.StringVar(&t.endpoint, "endpoint", "", "the stop API's URL (default: $"+envEndpoint+", else the stack's "+apiOutput+" output)")
	fs.StringVar(&t.stack, "stack", "", "the CloudFormation stack to read the API's URL from (default: $"+envStack+", else "+DefaultStackName+")")
	return t
}

// StackDescriber reads a stack's outputs; *cloudformation.Client satisfies it.
type StackDescriber interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

var _ StackDescriber = (*cloudformation.Client)(nil)

// client resolves the endpoint (flag, environment, then the stack's output)
// and returns an API client with the default credentials.
func (c *cli) client(ctx context.Context, t *target) (*client.Client, error) {
	cfg, err := c.loadAWS(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	endpoint := t.endpoint
	if endpoint == "" {
		endpoint = c.getenv(envEndpoint)
	}
	if endpoint == "" {
		stack := t.stack
		if stack == "" {
			stack = c.getenv(envStack)
		}
		if stack == "" {
			stack = DefaultStackName
		}
		if endpoint, err = stackEndpoint(ctx, cloudformation.NewFromConfig(cfg), stack); err != nil {
			return nil, fmt.Errorf("%w (or give --endpoint, or set %s)", err, envEndpoint)
		}
	}
	return client.New(cfg, endpoint, func(o *client.Options) { o.UserAgent = "stopcoord-cli" })
}

// stackEndpoint reads the API's URL from the stack's outputs.
func stackEndpoint(ctx context.Context, cf StackDescriber, stack string) (string, error) {
	out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err != nil {
		return "", fmt.Errorf("find the stop API of stack %s: %w", stack, err)
	}
	for _, s := range out.Stacks {
		for _, o := range s.Outputs {
			if aws.ToString(o.OutputKey) == apiOutput && aws.ToString(o.OutputValue) != "" {
				return aws.ToString(o.OutputValue), nil
			}
		}
	}
	return "", errors.New("stack " + stack + " has no " + apiOutput + " output")
}
