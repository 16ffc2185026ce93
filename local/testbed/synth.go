package testbed

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// FunctionBootstraps builds the bootstrap of every function folder under
// root/functions and lays them out below dir as stack.Config.BinDir takes
// them (dir/bin/<name>/bootstrap). It returns that directory and the
// function folders, for Synthesize.
func FunctionBootstraps(t testing.TB, root, dir string) (bin string, functions []string, err error) {
	t.Helper()
	functions, err = filepath.Glob(filepath.Join(root, "functions", "*"))
	if err != nil || len(functions) == 0 {
		return "", nil, fmt.Errorf("no functions found under %s: %v", root, err)
	}
	bin = filepath.Join(dir, "bin")
	for _, fn := range functions {
		dst := filepath.Join(bin, filepath.Base(fn), "bootstrap")
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.Symlink(Bootstrap(t, fn), dst); err != nil {
			return "", nil, err
		}
	}
	return bin, functions, nil
}

// Synthesize runs the CDK app (root/infra) as `cdk synth` would, with
// cdk.json's context, extra on top of it, and placeholder assets: the
// local stack runs the host bootstraps, not the template's assets. It
// writes below dir and returns the template's path.
func Synthesize(root, dir string, functions []string, extra map[string]any) (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", fmt.Errorf("node not found: install Node.js 20+ (the CDK app runs on jsii)")
	}
	assets := filepath.Join(dir, "dist")
	for _, fn := range functions {
		p := filepath.Join(assets, filepath.Base(fn), "bootstrap")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("placeholder"), 0o755)
	}
	// The context cdk.json gives the CDK CLI (feature flags, settings),
	// plus where the assets are.
	var cdkJSON struct {
		Context map[string]any `json:"context"`
	}
	raw, err := os.ReadFile(filepath.Join(root, "cdk.json"))
	if err != nil || json.Unmarshal(raw, &cdkJSON) != nil {
		return "", fmt.Errorf("read cdk.json: %v", err)
	}
	if cdkJSON.Context == nil {
		cdkJSON.Context = map[string]any{}
	}
	cdkJSON.Context["stopcoord:assetDir"] = assets
	for k, v := range extra {
		cdkJSON.Context[k] = v
	}
	contextJSON, _ := json.Marshal(cdkJSON.Context)
	out := filepath.Join(dir, "cdk.out")
	cmd := exec.Command("go", "run", "./"+filepath.ToSlash(filepath.Join(root, "infra")))
	cmd.Env = append(os.Environ(), "CDK_OUTDIR="+out, "CDK_CONTEXT_JSON="+string(contextJSON), "JSII_SILENCE_WARNING_DEPRECATED_NODE_RELEASE=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("synthesize the stack: %v\n%s", err, b)
	}
	return filepath.Join(out, "StopCoord.template.json"), nil
}
