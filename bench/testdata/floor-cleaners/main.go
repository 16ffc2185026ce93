// Command floor-cleaners is the floor of the functions that clean up (the
// callback function and the sweeper): the floor bootstrap's clients and the
// clients of the five cleaners those functions must link (Lambda, Step
// Functions, Glue, Batch, ECS), and nothing else. Each service package's
// init (its endpoint table) runs in every process that imports it, called
// or not, so this is what cleaning costs before stopcoord's own code runs.
// Built with the module versions go.mod pins, like the floor.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/batch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	awslambda "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "load AWS configuration:", err)
		os.Exit(1)
	}
	clients := []any{
		sagemaker.NewFromConfig(cfg), dynamodb.NewFromConfig(cfg), sqs.NewFromConfig(cfg),
		awslambda.NewFromConfig(cfg), sfn.NewFromConfig(cfg), glue.NewFromConfig(cfg), batch.NewFromConfig(cfg), ecs.NewFromConfig(cfg),
	}
	lambda.Start(func(context.Context, map[string]any) (string, error) {
		// The clients are used, so the linker keeps what a function keeps.
		return fmt.Sprintf(strings.Repeat("%T ", len(clients)), clients...), nil
	})
}
