package pipeline_test

import (
	"fmt"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func ExampleParseExecutionARN() {
	arn, err := pipeline.ParseExecutionARN("arn:aws:sagemaker:eu-west-1:123456789012:pipeline/train/execution/x1y2z3")
	if err != nil {
		fmt.Println(pipeline.Code(err))
		return
	}
	fmt.Println(arn.Pipeline, arn.ExecutionID, arn.Region)

	_, err = pipeline.ParseExecutionARN("arn:aws:s3:::bucket")
	fmt.Println(pipeline.Code(err))
	// Output:
	// train x1y2z3 eu-west-1
	// invalid
}

func ExampleRequestToken() {
	token := pipeline.RequestToken("stop", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/train/execution/x1y2z3")
	fmt.Println(len(token), token == pipeline.RequestToken("stop", "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/train/execution/x1y2z3"))
	// Output: 64 true
}
