package callback_test

import (
	"fmt"

	"github.com/stopcoord/stopcoord/shared/callback"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

func ExampleParse() {
	m, err := callback.Parse(`{"token": "26vcYbeWsZ",
	  "pipelineExecutionArn": "arn:aws:sagemaker:us-east-2:012345678901:pipeline/callback-pipeline/execution/7pinimwddh3a",
	  "arguments": {"stopcoord_sfn_execution_arn": "arn:aws:states:us-east-2:012345678901:execution:etl:run-1"},
	  "Status": "Stopping"}`)
	if err != nil {
		fmt.Println(pipeline.Message(err))
		return
	}
	plan, _ := callback.PlanFromArguments(m.Arguments)
	fmt.Println(m.Token, m.Status, m.ExecutionARN.Pipeline, plan.Resources[0].Kind)

	_, err = callback.Parse(`{"token": "short"}`)
	fmt.Println(pipeline.Message(err))
	// Output:
	// 26vcYbeWsZ Stopping callback-pipeline sfn-execution
	// callback token "short" must be exactly 10 characters
}
