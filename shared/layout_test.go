// Package shared_test keeps the dependency direction of the shared packages
// honest: the domain imports only the standard library, the use cases and
// the ledger never import each other, and nothing shared reaches into the
// functions, the CDK app or the local tooling.
package shared_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/stopcoord/stopcoord/"

// deps lists each shared package with everything it imports, transitively,
// leaving out test files.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[0]] = f[1:]
	}
	return m
}

func TestDependencyDirection(t *testing.T) {
	all := deps(t)
	if _, ok := all[module+"shared/pipeline"]; !ok {
		t.Fatalf("go list did not list shared/pipeline: %v", all)
	}
	for pkg, imports := range all {
		for _, dep := range imports {
			switch {
			case pkg == module+"shared/pipeline" && !isStandard(dep):
				t.Errorf("%s must import only the standard library, imports %s", pkg, dep)
			case strings.HasPrefix(pkg, module+"shared/coordinator") && strings.HasPrefix(dep, module+"shared/ledger"),
				strings.HasPrefix(pkg, module+"shared/ledger") && strings.HasPrefix(dep, module+"shared/coordinator"):
				t.Errorf("%s imports %s: coordinator and ledger meet only in a function's main.go", pkg, dep)
			case strings.HasPrefix(dep, module+"functions/"), strings.HasPrefix(dep, module+"infra"), strings.HasPrefix(dep, module+"local/"):
				t.Errorf("%s imports %s: shared packages never import functions, infra or local", pkg, dep)
			}
		}
	}
}

// isStandard reports whether an import path is in the standard library:
// its first element has no dot.
func isStandard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
