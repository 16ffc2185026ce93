// Command infra is the CDK app that deploys stopcoord (the constructs are
// in package infra/stopcoord, for apps of your own). The CDK CLI runs it
// (see cdk.json at the repository root). Its settings come only from CDK
// context, never from the environment, so a deployment differs from the
// default only by what cdk.json or `-c key=value` says.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/stopcoord/stopcoord/infra/stopcoord"
)

func main() {
	app := awscdk.NewApp(nil)
	props, err := stopcoord.PropsFromContext(app.Node().TryGetContext)
	if err != nil {
		fail("%v", err)
	}
	assets := props.AssetDir
	if assets == "" {
		assets = "dist"
	}
	if missing := stopcoord.MissingBootstraps(assets); len(missing) > 0 {
		fail("%s missing: run `make build` first (or `make synth`, which builds)", strings.Join(missing, ", "))
	}
	stopcoord.NewStopCoordStack(app, *props.StackName, props)
	app.Synth(nil)
}

// fail ends synth with one line (the CDK CLI shows stderr as it is).
func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "infra: "+format+"\n", args...)
	os.Exit(1)
}
