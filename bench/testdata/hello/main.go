// Command hello is the baseline for cold-start measurements: the smallest Go
// Lambda, built exactly like stopcoord's functions.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, map[string]any) (string, error) { return "hello", nil })
}
