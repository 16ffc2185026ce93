package stopcoord

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// settingsConstants reads the environment-variable names declared in
// shared/settings: constant name -> value.
func settingsConstants(t *testing.T) map[string]string {
	t.Helper()
	consts := map[string]string{}
	for _, f := range parseDir(t, "../../shared/settings") {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						consts[name.Name], _ = strconv.Unquote(lit.Value)
					}
				}
			}
			return true
		})
	}
	return consts
}

// envReads lists the variables a function's code reads through package
// settings, directly or through a shared helper that takes a
// *settings.Env, and which of them it requires (env.String).
func envReads(t *testing.T, fn string, consts map[string]string) (reads, required []string) {
	t.Helper()
	helpers := envHelpers(t, consts)
	for _, f := range parseDir(t, filepath.Join("..", "..", "functions", fn)) {
		r, q := readsIn(f, consts)
		reads, required = append(reads, r...), append(required, q...)
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok {
						if h, ok := helpers[pkg.Name+"."+sel.Sel.Name]; ok {
							reads, required = append(reads, h.reads...), append(required, h.required...)
						}
					}
				}
			}
			return true
		})
	}
	return dedupe(reads), dedupe(required)
}

type envUse struct{ reads, required []string }

// envHelpers finds what each shared function reads, directly or through
// the shared functions it calls, keyed "package.Function": a helper that
// takes a *settings.Env, and also start-up (startup.Load), which reads
// what every function gets.
func envHelpers(t *testing.T, consts map[string]string) map[string]envUse {
	t.Helper()
	helpers := map[string]envUse{}
	calls := map[string][]string{} // helper -> the helpers it calls
	dirs, err := filepath.Glob("../../shared/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if strings.HasSuffix(dir, "settings") || !isDir(dir) {
			continue
		}
		for _, f := range parseDir(t, dir) {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Recv != nil || fd.Body == nil {
					continue
				}
				name := f.Name.Name + "." + fd.Name.Name
				r, q := readsIn(fd, consts)
				helpers[name] = envUse{r, q}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					if call, ok := n.(*ast.CallExpr); ok {
						switch fun := call.Fun.(type) {
						case *ast.Ident:
							calls[name] = append(calls[name], f.Name.Name+"."+fun.Name)
						case *ast.SelectorExpr:
							if pkg, ok := fun.X.(*ast.Ident); ok {
								calls[name] = append(calls[name], pkg.Name+"."+fun.Sel.Name)
							}
						}
					}
					return true
				})
			}
		}
	}
	// Fold in what called helpers read, until nothing changes.
	for changed := true; changed; {
		changed = false
		for name, callees := range calls {
			h := helpers[name]
			for _, c := range callees {
				if ch, ok := helpers[c]; ok {
					before := len(h.reads) + len(h.required)
					h.reads, h.required = dedupe(append(h.reads, ch.reads...)), dedupe(append(h.required, ch.required...))
					changed = changed || len(h.reads)+len(h.required) != before
				}
			}
			helpers[name] = h
		}
	}
	return helpers
}

// readsIn collects the settings a piece of code reads, and requires.
func readsIn(n ast.Node, consts map[string]string) (reads, required []string) {
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "String" && len(n.Args) == 1 {
				if name := settingsRef(n.Args[0], consts); name != "" {
					required = append(required, name)
				}
			}
		case *ast.SelectorExpr:
			if name := settingsRef(n, consts); name != "" {
				reads = append(reads, name)
			}
		}
		return true
	})
	return reads, required
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func settingsRef(e ast.Expr, consts map[string]string) string {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return ""
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "settings" {
		return ""
	}
	return consts[sel.Sel.Name]
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

func dedupe(xs []string) []string {
	sort.Strings(xs)
	return slices.Compact(xs)
}

// TestEnvironmentContract checks, for every function folder, that the stack
// deploys it and sets exactly variables its code reads, including every one
// it requires.
func TestEnvironmentContract(t *testing.T) {
	stack := synthesize(t)
	tmpl := templateJSON(t, stack)
	consts := settingsConstants(t)
	for _, fn := range functionNames(t) {
		t.Run(fn, func(t *testing.T) {
			id, ok := functionIDs()[fn]
			if !ok {
				t.Fatalf("functions/%s is not deployed by the stack (no entry in functionIDs)", fn)
			}
			env := functionEnvironment(t, tmpl, id)
			reads, required := envReads(t, fn, consts)
			for _, name := range required {
				if _, ok := env[name]; !ok {
					t.Errorf("%s requires %s; the stack does not set it", fn, name)
				}
			}
			for name := range env {
				if !slices.Contains(reads, name) {
					t.Errorf("the stack sets %s on %s, whose code never reads it", name, fn)
				}
			}
		})
	}
}

// TestRoutesMatchTheHandler keeps the API's routes and the function's
// route keys the same list.
func TestRoutesMatchTheHandler(t *testing.T) {
	var handled []string
	for _, f := range parseDir(t, "../../functions/stop-api") {
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, name := range vs.Names {
				if strings.HasPrefix(name.Name, "route") && i < len(vs.Values) {
					if lit, ok := vs.Values[i].(*ast.BasicLit); ok {
						v, _ := strconv.Unquote(lit.Value)
						handled = append(handled, v)
					}
				}
			}
			return true
		})
	}
	if got, want := dedupe(handled), dedupe(slices.Clone(Routes)); !slices.Equal(got, want) {
		t.Fatalf("the handler routes %v, the API declares %v", got, want)
	}
}
