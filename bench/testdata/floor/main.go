// Command floor is the cold-start floor for stopcoord's functions: what
// every one of them cannot do without (aws-lambda-go, the default AWS
// configuration chain, and the SageMaker, DynamoDB and SQS clients), and
// nothing else. It is built with the module versions go.mod pins, so it
// moves with them: a function's init over the floor's is stopcoord's own.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "load AWS configuration:", err)
		os.Exit(1)
	}
	sm := sagemaker.NewFromConfig(cfg)
	ddb := dynamodb.NewFromConfig(cfg)
	q := sqs.NewFromConfig(cfg)
	lambda.Start(func(context.Context, map[string]any) (string, error) {
		// The clients are used, so the linker keeps what a function keeps.
		return fmt.Sprintf("%T %T %T", sm, ddb, q), nil
	})
}
