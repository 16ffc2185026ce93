package ledger

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The table's key schema and index names. The CDK stack builds the table
// from these constants, so code and deployment cannot drift.
const (
	// PartitionKey holds "EXEC#<execution ARN>": every item of an execution
	// lives in one partition, so one Query reads it all.
	PartitionKey = "pk"
	// SortKey tells the item kinds apart: EXECUTION, STEP#<name>,
	// TOKEN#<token>, CLEANUP#<token>#<resource>, STOP#<id>.
	SortKey = "sk"

	// LookupIndex finds an item by a global id without knowing its
	// execution: callback tokens ("TOKEN#<token>") and stop requests
	// ("STOP#<id>"). Sparse: only those items carry LookupKey.
	LookupIndex = "lookup"
	LookupKey   = "lookupKey"

	// StoppingIndex lists executions in Stopping by when they entered it.
	// Sparse: only an execution in Stopping carries the two attributes.
	StoppingIndex = "stopping"
	StoppingShard = "stoppingShard"
	StoppingSince = "stoppingSince"

	// ActiveIndex lists executions that are not terminal by when they
	// started (or were first seen). Sparse: a terminal execution leaves it.
	ActiveIndex = "active"
	ActiveShard = "activeShard"
	ActiveSince = "activeSince"

	// TTLAttribute holds the epoch second after which DynamoDB may delete a
	// finished record.
	TTLAttribute = "expiresAt"
)

// The sparse indexes have one partition each. Few executions are running
// or stopping at once, so one partition is enough and keeps each listing a
// single ordered Query.
const (
	stoppingShardValue = "STOPPING"
	activeShardValue   = "ACTIVE"
)

// TableDefinition is the CreateTable input for a ledger table: on-demand,
// with every sparse index projecting all attributes.
func TableDefinition(name string) *dynamodb.CreateTableInput {
	str := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	key := func(n string, t types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(n), KeyType: t}
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			str(PartitionKey), str(SortKey), str(LookupKey), str(StoppingShard), str(ActiveShard), str(OpenStopShard),
			{AttributeName: aws.String(StoppingSince), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String(ActiveSince), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String(OpenStopSince), AttributeType: types.ScalarAttributeTypeN},
		},
		KeySchema: []types.KeySchemaElement{key(PartitionKey, types.KeyTypeHash), key(SortKey, types.KeyTypeRange)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(LookupIndex), KeySchema: []types.KeySchemaElement{key(LookupKey, types.KeyTypeHash)}, Projection: all},
			{IndexName: aws.String(StoppingIndex), KeySchema: []types.KeySchemaElement{key(StoppingShard, types.KeyTypeHash), key(StoppingSince, types.KeyTypeRange)}, Projection: all},
			{IndexName: aws.String(ActiveIndex), KeySchema: []types.KeySchemaElement{key(ActiveShard, types.KeyTypeHash), key(ActiveSince, types.KeyTypeRange)}, Projection: all},
			{IndexName: aws.String(OpenStopsIndex), KeySchema: []types.KeySchemaElement{key(OpenStopShard, types.KeyTypeHash), key(OpenStopSince, types.KeyTypeRange)}, Projection: all},
		},
	}
}

// TableAdmin is what CreateTable needs of a DynamoDB client.
type TableAdmin interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, opts ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

// CreateTable creates a ledger table with TTL enabled, for the tests and the
// local stack; deployed tables come from the CDK stack. An existing table is
// left as it is.
func CreateTable(ctx context.Context, client TableAdmin, name string) error {
	_, err := client.CreateTable(ctx, TableDefinition(name))
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create ledger table %s: %w", name, err)
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(TTLAttribute), Enabled: aws.Bool(true)},
	})
	if err != nil {
		return fmt.Errorf("enable TTL on ledger table %s: %w", name, err)
	}
	return nil
}
