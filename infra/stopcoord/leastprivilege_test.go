package stopcoord

import (
	"encoding/json"
	"fmt"
	"go/types"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
)

// The AWS calls each function's code makes, derived from the code: the
// model is TestEnvironmentContract, which derives the environment from it.
//
// The function's main package and the module's packages are built into
// SSA; from main (and init), every call is followed that the code can
// make: static calls, calls through interfaces to the module's own types
// that implement them (only types of packages the function links), and
// functions taken as values (a handler given to lambda.Start). A call is
// an AWS call when its callee has the SDK's operation shape, a method
// named Op whose second parameter is *<service>.OpInput: the SDK client's
// own methods, and the one-method interfaces the code declares over them
// (StepLister, Invoker), which is how most calls are made. The SDK's
// paginators (New<Op>Paginator) call Op. SDK code itself is not followed:
// what it calls on its own (the credential chain's STS and SSO calls) is
// not the function's doing, and the deployed role does not need it.

const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// iamService is the IAM prefix of an SDK service package, where they differ.
var iamService = map[string]string{"sfn": "states", "eventbridge": "events"}

// iamAction maps an SDK operation to the IAM action it is authorised by,
// where the names differ (batch operations are authorised per entry).
var iamAction = map[string]string{
	"lambda:Invoke":                    "lambda:InvokeFunction",
	"sqs:SendMessageBatch":             "sqs:SendMessage",
	"sqs:DeleteMessageBatch":           "sqs:DeleteMessage",
	"sqs:ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
	"dynamodb:TransactGetItems":        "dynamodb:GetItem",
}

// operations whose IAM actions depend on what the request holds: the test
// must learn to read them before code may call them.
var unmapped = []string{"dynamodb:TransactWriteItems", "dynamodb:ExecuteStatement", "dynamodb:BatchExecuteStatement", "dynamodb:ExecuteTransaction"}

var codeCalls struct {
	once sync.Once
	ops  map[string][]string // function folder -> IAM actions
	err  error
}

// codeActions derives, once per test binary, the IAM actions each
// function's code calls.
func codeActions(t *testing.T) map[string][]string {
	t.Helper()
	codeCalls.once.Do(func() { codeCalls.ops, codeCalls.err = deriveCodeActions() })
	if codeCalls.err != nil {
		t.Fatal(codeCalls.err)
	}
	return codeCalls.ops
}

func deriveCodeActions() (map[string][]string, error) {
	cfg := &packages.Config{
		// Syntax and type information for the module's packages only; the
		// dependencies' types come from export data, and their code is
		// not followed.
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedTypes | packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:  "../..",
	}
	pkgs, err := packages.Load(cfg, "./functions/...", "./shared/...")
	if err != nil {
		return nil, fmt.Errorf("load the functions and shared packages: %w", err)
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("load: %s", strings.Join(errs, "; "))
	}
	prog := ssa.NewProgram(pkgs[0].Fset, ssa.InstantiateGenerics)
	module := map[*types.Package]*ssa.Package{}
	for _, p := range pkgs {
		module[p.Types] = prog.CreatePackage(p.Types, p.Syntax, p.TypesInfo, true)
	}
	// Every other package the module's import, from its types alone.
	created := map[*types.Package]bool{}
	var create func(tp *types.Package)
	create = func(tp *types.Package) {
		if created[tp] {
			return
		}
		created[tp] = true
		for _, imp := range tp.Imports() {
			create(imp)
		}
		if _, ok := module[tp]; !ok && prog.ImportedPackage(tp.Path()) == nil {
			prog.CreatePackage(tp, nil, nil, true)
		}
	}
	for tp := range module {
		create(tp)
	}
	prog.Build()

	out := map[string][]string{}
	for tp, sp := range module {
		if tp.Name() != "main" || !strings.Contains(tp.Path(), "/functions/") {
			continue
		}
		ops, err := reachableOperations(prog, sp, module)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tp.Path(), err)
		}
		out[tp.Path()[strings.LastIndex(tp.Path(), "/")+1:]] = ops
	}
	return out, nil
}

// reachableOperations follows the calls from main and init and collects
// the IAM actions of the AWS operations met on the way.
func reachableOperations(prog *ssa.Program, main *ssa.Package, module map[*types.Package]*ssa.Package) ([]string, error) {
	// The module's named types in the packages this function links: the
	// candidates for a call through an interface.
	linked := map[*types.Package]bool{}
	var link func(tp *types.Package)
	link = func(tp *types.Package) {
		if linked[tp] {
			return
		}
		linked[tp] = true
		for _, imp := range tp.Imports() {
			link(imp)
		}
	}
	link(main.Pkg)
	var candidates []types.Type
	for tp := range module {
		if !linked[tp] {
			continue
		}
		scope := tp.Scope()
		for _, name := range scope.Names() {
			if tn, ok := scope.Lookup(name).(*types.TypeName); ok && !tn.IsAlias() {
				if _, isIface := tn.Type().Underlying().(*types.Interface); isIface {
					continue
				}
				if named, ok := tn.Type().(*types.Named); ok && named.TypeParams().Len() > 0 {
					continue // generic types are reached through their instances' static calls
				}
				candidates = append(candidates, tn.Type(), types.NewPointer(tn.Type()))
			}
		}
	}

	actions := map[string]bool{}
	var problems []string
	seen := map[*ssa.Function]bool{}
	var work []*ssa.Function
	visit := func(fn *ssa.Function) {
		if fn == nil || seen[fn] {
			return
		}
		seen[fn] = true
		if op := operationOf(fn.Name(), fn.Signature, fn.Pkg); op != "" {
			actions[op] = true
			return
		}
		work = append(work, fn)
	}
	visit(main.Func("main"))
	visit(main.Func("init"))
	for len(work) > 0 {
		fn := work[len(work)-1]
		work = work[:len(work)-1]
		// Only the module's code (and the wrappers the builder made for it)
		// is followed; a dependency's function has no body here.
		for _, anon := range fn.AnonFuncs {
			visit(anon)
		}
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				if call, ok := instr.(ssa.CallInstruction); ok {
					common := call.Common()
					if common.IsInvoke() {
						m := common.Method
						if op := operationOf(m.Name(), m.Type().(*types.Signature), nil); op != "" {
							actions[op] = true
							continue
						}
						iface, _ := common.Value.Type().Underlying().(*types.Interface)
						for _, c := range candidates {
							if iface == nil || !types.Implements(c, iface) {
								continue
							}
							sel := prog.MethodSets.MethodSet(c).Lookup(m.Pkg(), m.Name())
							if sel != nil {
								visit(prog.MethodValue(sel))
							}
						}
						continue
					}
				}
				for _, v := range instr.Operands(nil) {
					if v == nil || *v == nil {
						continue
					}
					if f, ok := (*v).(*ssa.Function); ok {
						visit(f)
					}
				}
			}
		}
	}
	var list []string
	for a := range actions {
		if slices.Contains(unmapped, a) {
			problems = append(problems, a+" is called: its IAM actions depend on the request; teach this test to read them")
		}
		list = append(list, a)
	}
	sort.Strings(list)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return list, nil
}

// operationOf is the IAM action of a function or method with the SDK's
// operation shape, or of an SDK paginator constructor; "" for any other.
func operationOf(name string, sig *types.Signature, pkg *ssa.Package) string {
	if pkg != nil && sig.Recv() == nil && strings.HasPrefix(pkg.Pkg.Path(), sdkServicePrefix) {
		if op, ok := strings.CutSuffix(strings.TrimPrefix(name, "New"), "Paginator"); ok && strings.HasPrefix(name, "New") {
			return action(strings.TrimPrefix(pkg.Pkg.Path(), sdkServicePrefix), op)
		}
		return ""
	}
	if sig.Params().Len() < 2 {
		return ""
	}
	ptr, ok := sig.Params().At(1).Type().(*types.Pointer)
	if !ok {
		return ""
	}
	named, ok := ptr.Elem().(*types.Named)
	if !ok || named.Obj().Pkg() == nil || !strings.HasPrefix(named.Obj().Pkg().Path(), sdkServicePrefix) || named.Obj().Name() != name+"Input" {
		return ""
	}
	return action(strings.TrimPrefix(named.Obj().Pkg().Path(), sdkServicePrefix), name)
}

func action(service, op string) string {
	prefix := service
	if p, ok := iamService[service]; ok {
		prefix = p
	}
	a := prefix + ":" + op
	if mapped, ok := iamAction[service+":"+op]; ok {
		return mapped
	}
	return a
}

// grantedActions are, per function construct id, the actions its role's
// policies allow, split into what the code is granted and what the Lambda
// service uses the role for: active tracing (X-Ray), polling the
// function's event source queue, writing the function's log group, and sending a failed asynchronous
// invocation to its on-failure queue. The platform's share is recognised
// by its resource, so a grant the code gets on the same queue is not
// hidden by it unless it is one of the platform's own actions.
type grantedActions struct {
	code, platform map[string][]string // action -> resources (JSON)
	managed        []string
}

var (
	tracingActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
	pollingActions = []string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}
	failureActions = []string{"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
	loggingActions = []string{"logs:CreateLogStream", "logs:PutLogEvents"}
)

func roleGrants(t *testing.T, tmpl template, constructID string) grantedActions {
	t.Helper()
	fnID, fn := tmpl.function(t, constructID)
	roleID := fmt.Sprint(fn.Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0])
	platform := map[string][]string{} // resource (JSON) -> platform actions allowed on it
	if tc, _ := fn.Properties["TracingConfig"].(map[string]any); tc["Mode"] == "Active" {
		platform[`"*"`] = tracingActions
	}
	if lc, _ := fn.Properties["LoggingConfig"].(map[string]any); lc != nil {
		if ref, _ := lc["LogGroup"].(map[string]any); ref["Ref"] != nil {
			raw, _ := json.Marshal(map[string]any{"Fn::GetAtt": []any{ref["Ref"], "Arn"}})
			platform[string(raw)] = loggingActions
		}
	}
	for _, m := range tmpl.ofType("AWS::Lambda::EventSourceMapping") {
		if ref, _ := m.Properties["FunctionName"].(map[string]any); ref["Ref"] == fnID {
			raw, _ := json.Marshal(m.Properties["EventSourceArn"])
			platform[string(raw)] = pollingActions
		}
	}
	for _, c := range tmpl.ofType("AWS::Lambda::EventInvokeConfig") {
		if ref, _ := c.Properties["FunctionName"].(map[string]any); ref["Ref"] == fnID {
			dc, _ := c.Properties["DestinationConfig"].(map[string]any)
			of, _ := dc["OnFailure"].(map[string]any)
			raw, _ := json.Marshal(of["Destination"])
			platform[string(raw)] = failureActions
		}
	}
	g := grantedActions{code: map[string][]string{}, platform: map[string][]string{}}
	for _, p := range tmpl.ofType("AWS::IAM::Policy") {
		roles, _ := json.Marshal(p.Properties["Roles"])
		if !strings.Contains(string(roles), `"`+roleID+`"`) {
			continue
		}
		doc, _ := p.Properties["PolicyDocument"].(map[string]any)
		for _, s := range doc["Statement"].([]any) {
			st := s.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			resources, ok := st["Resource"].([]any)
			if !ok {
				resources = []any{st["Resource"]}
			}
			for _, a := range asStrings(st["Action"]) {
				for _, r := range resources {
					raw, _ := json.Marshal(r)
					res := string(raw)
					if slices.Contains(platform[res], a) {
						g.platform[a] = append(g.platform[a], res)
					} else {
						g.code[a] = append(g.code[a], res)
					}
				}
			}
		}
	}
	role := tmpl.Resources[roleID]
	for _, m := range asList(role.Properties["ManagedPolicyArns"]) {
		raw, _ := json.Marshal(m)
		g.managed = append(g.managed, string(raw))
	}
	return g
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asList(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func asList(v any) []any {
	switch v := v.(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		return []any{v}
	}
}

// cleanerOrSend are the actions that act on what callback steps name, or
// send where someone else reads: none may be granted on every resource.
var cleanerOrSend = append(slices.Clone(cleanerActions), "events:PutEvents")

// TestEachFunctionGetsOnlyWhatItsCodeCalls (issue 12): each function's
// role allows exactly the AWS actions its code calls (derived from the
// code above), besides what the Lambda service itself uses the role for;
// a grant the code does not use, or a call without a grant, fails. The
// stack is synthesized with the local cleanup scope, which names every
// kind, so every cleaner grant is there to compare.
func TestEachFunctionGetsOnlyWhatItsCodeCalls(t *testing.T) {
	scope, err := os.ReadFile("../../local/cleanup-scope.json")
	if err != nil {
		t.Fatal(err)
	}
	tmpl := templateJSON(t, synthesize(t, map[string]any{contextCleanupScope: string(scope)}))
	calls := codeActions(t)
	for _, fn := range functionNames(t) {
		t.Run(fn, func(t *testing.T) {
			code, ok := calls[fn]
			if !ok {
				t.Fatalf("no main package found for functions/%s", fn)
			}
			t.Logf("%s calls %v", fn, code)
			g := roleGrants(t, tmpl, functionIDs()[fn])
			for _, a := range sortedKeys(g.code) {
				if !slices.Contains(code, a) {
					t.Errorf("%s is granted %s on %v, which its code never calls", fn, a, g.code[a])
				}
			}
			for _, a := range code {
				if _, ok := g.code[a]; !ok {
					if _, ok := g.platform[a]; !ok {
						t.Errorf("%s's code calls %s, which its role does not allow", fn, a)
					}
				}
			}
			for _, a := range cleanerOrSend {
				for _, r := range g.code[a] {
					if r == `"*"` {
						t.Errorf("%s is granted %s on every resource", fn, a)
					}
				}
			}
			for _, m := range g.managed {
				if !strings.HasSuffix(m, `:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"]]}`) {
					t.Errorf("%s's role has the managed policy %s: only the basic execution role (its logs) is expected", fn, m)
				}
			}
		})
	}
}
