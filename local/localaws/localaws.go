// Package localaws builds AWS SDK configuration for the local stand-ins:
// static test credentials and a fixed region, so nothing reaches for IMDS or
// a real account.
package localaws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region every local part uses.
const Region = "us-east-1"

// Config returns an SDK configuration with static credentials for local
// servers. Point each client at its server with BaseEndpoint.
func Config(ctx context.Context) (aws.Config, error) {
	return config.LoadDefaultConfig(ctx,
		config.WithRegion(Region),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("test", "test", "")),
	)
}

// Env is the environment a child process (a function under aws-lambda-rie,
// the emulator) needs to talk to the local parts through the default chain.
func Env() []string {
	return []string{
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=test",
		"AWS_SECRET_ACCESS_KEY=test",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}
