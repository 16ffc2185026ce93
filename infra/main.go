// Command infra is the CDK app that deploys stopcoord (the constructs are
// in package infra/stopcoord, for apps of your own). The CDK CLI runs it
// (see cdk.json at the repository root). Its settings come only from CDK
// context, never from the environment, so a deployment differs from the
// default only by what cdk.json or `-c key=value` says.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/stopcoord/stopcoord/infra/stopcoord"
)

func main() {
	// Before the CDK starts (its Node runtime prints banners): a missing
	// build is one line that says what to do.
	if missing := stopcoord.MissingBootstraps(assetDir()); len(missing) > 0 {
		var names []string
		for _, m := range missing {
			names = append(names, filepath.Base(filepath.Dir(m)))
		}
		fail("no bootstrap in %s for %s: run `make build` first", assetDir(), strings.Join(names, ", "))
	}
	app := awscdk.NewApp(nil)
	props, err := stopcoord.PropsFromContext(app.Node().TryGetContext)
	if err != nil {
		fail("%v", err)
	}
	props.AssetDir = assetDir()
	stopcoord.NewStopCoordStack(app, *props.StackName, props)
	app.Synth(nil)
}

// assetDir is the stopcoord:assetDir context value, read the way the CDK
// CLI hands context to an app (CDK_CONTEXT_JSON, or a file named by
// CONTEXT_OVERFLOW_LOCATION when it is large), or dist.
func assetDir() string {
	raw := []byte(os.Getenv("CDK_CONTEXT_JSON"))
	if file := os.Getenv("CONTEXT_OVERFLOW_LOCATION"); len(raw) == 0 && file != "" {
		raw, _ = os.ReadFile(file)
	}
	var ctx map[string]any
	_ = json.Unmarshal(raw, &ctx)
	if dir, ok := ctx[stopcoord.ContextAssetDir].(string); ok && dir != "" {
		return dir
	}
	return "dist"
}

// fail ends synth with one line (the CDK CLI shows stderr as it is).
func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "infra: "+format+"\n", args...)
	os.Exit(1)
}
