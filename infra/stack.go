package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// StopCoordStackProps configures the stopcoord stack. Every field has a
// usable zero value, so nil props give a working (unprotected) stack.
type StopCoordStackProps struct {
	awscdk.StackProps
	// LedgerDeletionProtection makes DynamoDB refuse to delete the ledger
	// table until the protection is turned off again.
	LedgerDeletionProtection bool
}

// NewStopCoordStack builds the whole stopcoord deployment: for now the
// ledger table that records executions, steps, callback tokens and stop
// requests.
func NewStopCoordStack(scope constructs.Construct, id string, props *StopCoordStackProps) awscdk.Stack {
	if props == nil {
		props = &StopCoordStackProps{}
	}
	stack := awscdk.NewStack(scope, &id, &props.StackProps)

	ledgerTable := NewLedger(stack, "Ledger", &LedgerProps{
		DeletionProtection: props.LedgerDeletionProtection,
	}).Table

	// CloudFormation generates the table name, so operators and scripts find
	// it here rather than guessing it.
	awscdk.NewCfnOutput(stack, jsii.String("LedgerTableName"), &awscdk.CfnOutputProps{
		Description: jsii.String("Name of the DynamoDB table that holds the stopcoord ledger"),
		Value:       ledgerTable.TableName(),
	})
	return stack
}
