package testbed

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/stopcoord/stopcoord/local/rie"
)

// Bootstraps are built once per test binary, the way the Makefile builds
// them, into a directory RunTests removes.
var bootstraps struct {
	mu    sync.Mutex
	dir   string
	built map[string]built
}

type built struct {
	path string
	err  error
}

// Bootstrap builds the Lambda main package pkg (a path as `go build` takes
// it) into a host bootstrap, once per test binary, and returns its path.
func Bootstrap(t testing.TB, pkg string) string {
	t.Helper()
	bootstraps.mu.Lock()
	defer bootstraps.mu.Unlock()
	if bootstraps.dir == "" {
		dir, err := os.MkdirTemp("", "stopcoord-bootstraps-")
		if err != nil {
			t.Fatal(err)
		}
		bootstraps.dir, bootstraps.built = dir, map[string]built{}
	}
	b, ok := bootstraps.built[pkg]
	if !ok {
		b.path = filepath.Join(bootstraps.dir, filepath.Base(filepath.Clean(pkg))+"-"+strconv.Itoa(len(bootstraps.built)), "bootstrap")
		b.err = rie.Build(pkg, b.path)
		bootstraps.built[pkg] = b
	}
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func removeBootstraps() {
	bootstraps.mu.Lock()
	defer bootstraps.mu.Unlock()
	if bootstraps.dir != "" {
		os.RemoveAll(bootstraps.dir)
	}
}
