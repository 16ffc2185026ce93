package stack

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// tableInput turns an AWS::DynamoDB::Table's properties into CreateTable
// and UpdateTimeToLive inputs. The property names are CloudFormation's,
// which match the API's, so decoding them into the SDK's types is exact.
func tableInput(name string, props map[string]any) (*dynamodb.CreateTableInput, *dynamodb.UpdateTimeToLiveInput, error) {
	var spec struct {
		AttributeDefinitions   []struct{ AttributeName, AttributeType string }
		KeySchema              []struct{ AttributeName, KeyType string }
		GlobalSecondaryIndexes []struct {
			IndexName  string
			KeySchema  []struct{ AttributeName, KeyType string }
			Projection struct{ ProjectionType string }
		}
		TimeToLiveSpecification *struct {
			AttributeName string
			Enabled       bool
		}
	}
	raw, _ := json.Marshal(props)
	if err := json.Unmarshal(raw, &spec); err != nil {
		return nil, nil, fmt.Errorf("decode table properties: %w", err)
	}
	keys := func(ks []struct{ AttributeName, KeyType string }) []types.KeySchemaElement {
		out := make([]types.KeySchemaElement, 0, len(ks))
		for _, k := range ks {
			out = append(out, types.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: types.KeyType(k.KeyType)})
		}
		return out
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		KeySchema:   keys(spec.KeySchema),
	}
	for _, a := range spec.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a.AttributeName), AttributeType: types.ScalarAttributeType(a.AttributeType)})
	}
	for _, g := range spec.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			KeySchema:  keys(g.KeySchema),
			Projection: &types.Projection{ProjectionType: types.ProjectionType(g.Projection.ProjectionType)},
		})
	}
	var ttl *dynamodb.UpdateTimeToLiveInput
	if t := spec.TimeToLiveSpecification; t != nil && t.Enabled {
		ttl = &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name), TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(t.AttributeName), Enabled: aws.Bool(true)}}
	}
	return in, ttl, nil
}
