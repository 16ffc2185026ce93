package emulator_test

import (
	"maps"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestEmulatorIsAnIsland holds the emulator, its test helpers and its
// command to one rule: nothing from stopcoord's own shared/, functions/ or
// infra/ trees, tests included, so the emulator could become a module of
// its own the day someone outside wants it.
func TestEmulatorIsAnIsland(t *testing.T) {
	t.Parallel()
	const module = "github.com/stopcoord/stopcoord/"
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-test", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`,
		module+"local/sagemaker/...", module+"local/cmd/sagemaker-emulator")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, exitStderr(err))
	}
	island := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		pkg := fields[0]
		for _, imp := range fields[1:] {
			rest, ours := strings.CutPrefix(imp, module)
			if !ours {
				continue
			}
			island[rest] = true
			for _, banned := range []string{"shared/", "functions/", "infra/"} {
				if strings.HasPrefix(rest, banned) {
					t.Errorf("%s imports %s: the emulator must not depend on stopcoord's %s", pkg, imp, banned)
				}
			}
		}
	}
	if !island["local/sagemaker/emulator"] {
		t.Fatalf("go list did not see the emulator package; output:\n%s", out)
	}
	t.Logf("stopcoord packages the emulator uses: %v", slices.Sorted(maps.Keys(island)))
}

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
