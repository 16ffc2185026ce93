package stopcoord

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/stopcoord/stopcoord/shared/ledger"
)

// LedgerProps configures the ledger table.
type LedgerProps struct {
	// DeletionProtection makes DynamoDB refuse DeleteTable calls, whoever
	// makes them, until it is turned off.
	DeletionProtection bool
}

// Ledger is the DynamoDB table in which stopcoord records executions, steps,
// callback tokens, cleanups and stop requests.
type Ledger struct {
	constructs.Construct
	// Table is what functions get their table name and grants from.
	Table awsdynamodb.Table
}

// NewLedger builds the ledger table from the key and index names in package
// shared/ledger, the same constants the ledger code and its DynamoDB Local
// tests use, so the deployed table cannot drift from the code that reads it.
func NewLedger(scope constructs.Construct, id string, props *LedgerProps) *Ledger {
	if props == nil {
		props = &LedgerProps{}
	}
	c := constructs.NewConstruct(scope, &id)

	table := awsdynamodb.NewTable(c, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: stringAttribute(ledger.PartitionKey),
		SortKey:      stringAttribute(ledger.SortKey),
		// Traffic follows pipeline executions: bursty and mostly idle.
		BillingMode: awsdynamodb.BillingMode_PAY_PER_REQUEST,
		// The ledger is the only record of which stops were requested and
		// which cleanups are still owed, so it must be restorable.
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// The aws/dynamodb KMS key: encryption visible in CloudTrail, with
		// no customer key to manage.
		Encryption:          awsdynamodb.TableEncryption_AWS_MANAGED,
		TimeToLiveAttribute: jsii.String(ledger.TTLAttribute),
		DeletionProtection:  jsii.Bool(props.DeletionProtection),
		// Deleting or replacing the stack must never take the records with it.
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	// Every index is sparse (only some items carry their keys) and
	// project everything, so a lookup needs no second read of the table.
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(ledger.LookupIndex),
		PartitionKey:   stringAttribute(ledger.LookupKey),
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:    jsii.String(ledger.StoppingIndex),
		PartitionKey: stringAttribute(ledger.StoppingShard),
		// A NUMBER (the ledger writes epoch milliseconds), so the index
		// orders executions by when they started stopping.
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ledger.StoppingSince), Type: awsdynamodb.AttributeType_NUMBER},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(ledger.ActiveIndex),
		PartitionKey:   stringAttribute(ledger.ActiveShard),
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ledger.ActiveSince), Type: awsdynamodb.AttributeType_NUMBER},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	// Open stop requests by when they were requested (stopcoord stops
	// --stuck). Adding it to a deployed table is one in-place update.
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(ledger.OpenStopsIndex),
		PartitionKey:   stringAttribute(ledger.OpenStopShard),
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String(ledger.OpenStopSince), Type: awsdynamodb.AttributeType_NUMBER},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})

	return &Ledger{Construct: c, Table: table}
}

func stringAttribute(name string) *awsdynamodb.Attribute {
	return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
}
