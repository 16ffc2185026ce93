// Command infra is the CDK app that deploys stopcoord. The CDK CLI runs it
// (see cdk.json at the repository root). Its settings come only from CDK
// context, never from the environment, so a deployment differs from the
// default only by what cdk.json or `-c key=value` says.
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

// contextLedgerDeletionProtection is the context key that turns DynamoDB
// deletion protection on the ledger table on or off.
const contextLedgerDeletionProtection = "stopcoord:ledgerDeletionProtection"

func main() {
	app := awscdk.NewApp(nil)
	props, err := stackPropsFromContext(app.Node().TryGetContext)
	if err != nil {
		fmt.Fprintf(os.Stderr, "infra: %v\n", err)
		os.Exit(1)
	}
	NewStopCoordStack(app, "StopCoord", props)
	app.Synth(nil)
}

// stackPropsFromContext builds the stack's props from CDK context. lookup is
// Node.TryGetContext; taking it as a function keeps this testable without
// starting the jsii runtime.
func stackPropsFromContext(lookup func(key *string) any) (*StopCoordStackProps, error) {
	// An unset value keeps the table protected: forgetting the setting must
	// not be what makes the ledger deletable.
	protect, err := contextBool(lookup, contextLedgerDeletionProtection, true)
	if err != nil {
		return nil, err
	}
	return &StopCoordStackProps{
		StackProps: awscdk.StackProps{
			Description: jsii.String("stopcoord: coordinates stopping SageMaker pipeline executions"),
		},
		LedgerDeletionProtection: protect,
	}, nil
}

// contextBool reads a boolean context value. cdk.json supplies JSON booleans,
// while `cdk synth -c key=value` supplies strings, so both are accepted.
func contextBool(lookup func(key *string) any, key string, unset bool) (bool, error) {
	switch v := lookup(jsii.String(key)).(type) {
	case nil:
		return unset, nil
	case bool:
		return v, nil
	case string:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("read context %s: want true or false, got %q", key, v)
		}
		return b, nil
	default:
		return false, fmt.Errorf("read context %s: want true or false, got %v (%T)", key, v, v)
	}
}
