package main

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/local/apigw"
	"github.com/stopcoord/stopcoord/shared/coordinator"
	"github.com/stopcoord/stopcoord/shared/ledger"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// fakeDynamoDB answers every ledger call at once: the stop request is new,
// and updates succeed.
type fakeDynamoDB struct{}

func (fakeDynamoDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return &dynamodb.GetItemOutput{}, nil
}

func (fakeDynamoDB) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return &dynamodb.PutItemOutput{}, nil
}

func (fakeDynamoDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{}, nil
}

func (fakeDynamoDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return &dynamodb.QueryOutput{}, nil
}

// fakeSageMaker reports every execution Executing and accepts every stop.
type fakeSageMaker struct{ coordinator.SageMaker }

func (fakeSageMaker) DescribePipelineExecution(context.Context, *sagemaker.DescribePipelineExecutionInput, ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error) {
	return &sagemaker.DescribePipelineExecutionOutput{PipelineExecutionStatus: smtypes.PipelineExecutionStatusExecuting}, nil
}

func (fakeSageMaker) StopPipelineExecution(_ context.Context, in *sagemaker.StopPipelineExecutionInput, _ ...func(*sagemaker.Options)) (*sagemaker.StopPipelineExecutionOutput, error) {
	return &sagemaker.StopPipelineExecutionOutput{PipelineExecutionArn: aws.String(*in.PipelineExecutionArn)}, nil
}

// BenchmarkStopRequest is the stop API's own cost per POST /stops: the
// runtime's JSON decode, validation, the coordinator and the ledger's
// request building, with the AWS clients faked out.
func BenchmarkStopRequest(b *testing.B) {
	raw, err := samples.FS.ReadFile("apigw/stop.json")
	if err != nil {
		b.Fatal(err)
	}
	coord := coordinator.New(coordinator.Deps{
		Ledger:    ledger.New(fakeDynamoDB{}, "ledger"),
		SageMaker: fakeSageMaker{},
		Access:    pipeline.AllowList{Accounts: []string{"123456789012"}},
	})
	h := lambda.NewHandler((&handler{coord: coord, maxBodyBytes: DefaultMaxBodyBytes}).handle)
	ctx := context.Background()
	// Measure the success path, not an error path.
	out, err := h.Invoke(ctx, raw)
	if resp, derr := apigw.Response(out); err != nil || derr != nil || resp.StatusCode != 202 {
		b.Fatalf("POST /stops answered %+v, %v, %v; want 202", resp, err, derr)
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := h.Invoke(ctx, raw)
		if err != nil || len(out) == 0 {
			b.Fatal(err)
		}
	}
}
