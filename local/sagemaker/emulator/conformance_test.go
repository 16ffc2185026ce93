package emulator_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// The emulator held against botocore's SageMaker service model: every
// response of every Pipelines operation must fit the model's output shape,
// and every request that breaks an input constraint must be refused.

// rawCall sends one operation as the wire protocol has it and decodes the
// answer with numbers kept as written.
func rawCall(t testing.TB, url, op string, in any) (int, any, []byte) {
	t.Helper()
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "SageMaker."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("%s answered %d with a body that is not JSON: %s", op, resp.StatusCode, b)
	}
	return resp.StatusCode, out, b
}

// modelPattern compiles a model pattern as a whole-value match; nil when RE2
// cannot compile it (then it is not checked).
func modelPattern(p string) *regexp.Regexp {
	if p == "" {
		return nil
	}
	re, err := regexp.Compile(`^(?:` + p + `)$`)
	if err != nil {
		return nil
	}
	return re
}

// checkShape lists how v breaks the named shape: unknown members, missing
// required ones, wrong JSON types, and every length, pattern, enum and range
// constraint.
func checkShape(m *botoModel, shapeName string, v any, path string) []string {
	s := m.Shapes[shapeName]
	var bad []string
	badf := func(format string, args ...any) { bad = append(bad, path+": "+fmt.Sprintf(format, args...)) }
	switch s.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			badf("want an object, got %T", v)
			break
		}
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			ref, known := s.Members[k]
			if !known {
				badf("member %s is not in %s", k, shapeName)
				continue
			}
			if obj[k] == nil {
				badf("member %s is null", k)
				continue
			}
			bad = append(bad, checkShape(m, ref.Shape, obj[k], path+"."+k)...)
		}
		for _, r := range s.Required {
			if _, ok := obj[r]; !ok {
				badf("required member %s missing", r)
			}
		}
	case "list":
		list, ok := v.([]any)
		if !ok {
			badf("want a list, got %T", v)
			break
		}
		if (s.Min != nil && float64(len(list)) < *s.Min) || (s.Max != nil && float64(len(list)) > *s.Max) {
			badf("%d items, want %v..%v", len(list), s.Min, s.Max)
		}
		for i, item := range list {
			bad = append(bad, checkShape(m, s.Member.Shape, item, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			badf("want an object, got %T", v)
			break
		}
		for k, item := range obj {
			bad = append(bad, checkShape(m, s.Key.Shape, k, path+".key")...)
			bad = append(bad, checkShape(m, s.Value.Shape, item, path+"["+k+"]")...)
		}
	case "string", "blob":
		str, ok := v.(string)
		if !ok {
			badf("want a string, got %T", v)
			break
		}
		n := float64(utf8.RuneCountInString(str))
		if (s.Min != nil && n < *s.Min) || (s.Max != nil && n > *s.Max) {
			badf("length %v, want %v..%v", n, deref64(s.Min), deref64(s.Max))
		}
		if re := modelPattern(s.Pattern); re != nil && !re.MatchString(str) {
			badf("%q does not match %s", str, s.Pattern)
		}
		if len(s.Enum) > 0 && !slices.Contains(s.Enum, str) {
			badf("%q not in %v", str, s.Enum)
		}
	case "integer", "long", "float", "double":
		num, ok := v.(json.Number)
		if !ok {
			badf("want a number, got %T", v)
			break
		}
		f, err := num.Float64()
		if err != nil || ((s.Type == "integer" || s.Type == "long") && strings.ContainsAny(num.String(), ".eE")) {
			badf("%s is not a %s", num, s.Type)
			break
		}
		if (s.Min != nil && f < *s.Min) || (s.Max != nil && f > *s.Max) {
			badf("%v out of %v..%v", f, deref64(s.Min), deref64(s.Max))
		}
	case "timestamp":
		if _, ok := v.(json.Number); !ok {
			badf("want epoch seconds, got %T %v", v, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			badf("want a boolean, got %T", v)
		}
	default:
		badf("shape type %s not checked", s.Type)
	}
	return bad
}

func deref64(f *float64) any {
	if f == nil {
		return "-"
	}
	return *f
}

// TestResponsesFitTheServiceModel drives every Pipelines operation to a
// successful answer over the wire and checks each answer against its output
// shape in botocore's model.
func TestResponsesFitTheServiceModel(t *testing.T) {
	t.Parallel()
	m := loadBotocore(t)
	f := newLambda(t, false, func(map[string]any) string { return `{"answer": 42}` })
	e := newEnv(t, withLambda(f.srv.URL), realTime)
	called := map[string]int{}
	call := func(op string, in map[string]any) map[string]any {
		t.Helper()
		status, out, raw := rawCall(t, e.url, op, in)
		if status != http.StatusOK {
			t.Fatalf("%s %v: %d %s", op, in, status, raw)
		}
		called[op]++
		for _, problem := range checkShape(m, m.Operations[op].Output.Shape, out, op) {
			t.Errorf("response breaks the model: %s\n%s", problem, raw)
		}
		return out.(map[string]any)
	}
	token := func(n int) string { return fmt.Sprintf("token-%030d", n) }

	main := emulatortest.Pipeline(
		emulatortest.Job("Train", "Training").Duration(1),
		emulatortest.Job("Tune", "Tuning").Duration(1),
		emulatortest.Job("Transform", "Transform").Duration(1).After("Train"),
		emulatortest.RawStep(`{"Name":"Check","Type":"Condition","Arguments":{
			"Conditions":[{"Type":"GreaterThanOrEqualTo","LeftValue":{"Get":"Parameters.Threshold"},"RightValue":0.5}],
			"IfSteps":[{"Name":"Deploy","Type":"Processing","Arguments":{},"x-emulator":{"durationMs":1}}],"ElseSteps":[]}}`),
		emulatortest.Lambda("Fn", functionArn, 60).Args(lambdaArgs).Outputs(answerOutput).After("Train"),
		emulatortest.Callback("Wait", e.queueURL).Outputs(emulatortest.Output{Name: "result", Type: "String"}).After("Fn", "Deploy"),
	).Param("Threshold", "Float", 0.9).Param("Label", "String", "x").JSON()
	call("CreatePipeline", map[string]any{"PipelineName": "conform", "PipelineDisplayName": "conform", "PipelineDefinition": main,
		"PipelineDescription": "all operations", "ClientRequestToken": token(1), "RoleArn": roleArn,
		"Tags": []any{map[string]any{"Key": "team", "Value": "ml"}}, "ParallelismConfiguration": map[string]any{"MaxParallelExecutionSteps": 5}})
	call("DescribePipeline", map[string]any{"PipelineName": "conform"})
	call("ListPipelines", map[string]any{"PipelineNamePrefix": "conf", "MaxResults": 5})
	call("UpdatePipeline", map[string]any{"PipelineName": "conform", "PipelineDescription": "updated", "PipelineDefinition": main})
	call("ListPipelineVersions", map[string]any{"PipelineName": "conform", "MaxResults": 1})
	pipeArn := call("UpdatePipelineVersion", map[string]any{"PipelineArn": e.pipelineArn("conform"), "PipelineVersionId": 1,
		"PipelineVersionDisplayName": "first", "PipelineVersionDescription": "the first"})["PipelineArn"].(string)
	call("DescribePipeline", map[string]any{"PipelineName": pipeArn, "PipelineVersionId": 1})

	arn := call("StartPipelineExecution", map[string]any{"PipelineName": "conform", "ClientRequestToken": token(2),
		"PipelineExecutionDisplayName": "run-1", "PipelineExecutionDescription": "first run", "MlflowExperimentName": "exp",
		"PipelineParameters": []any{map[string]any{"Name": "Label", "Value": "y"}}, "PipelineVersionId": 1,
		"ParallelismConfiguration": map[string]any{"MaxParallelExecutionSteps": 4}})["PipelineExecutionArn"].(string)
	call("DescribePipelineExecution", map[string]any{"PipelineExecutionArn": arn})
	call("ListPipelineExecutions", map[string]any{"PipelineName": "conform", "SortBy": "CreationTime", "SortOrder": "Ascending"})
	call("ListPipelineParametersForExecution", map[string]any{"PipelineExecutionArn": arn, "MaxResults": 1})
	call("DescribePipelineDefinitionForExecution", map[string]any{"PipelineExecutionArn": arn})
	call("UpdatePipelineExecution", map[string]any{"PipelineExecutionArn": arn, "PipelineExecutionDisplayName": "run-1b",
		"PipelineExecutionDescription": "renamed", "ParallelismConfiguration": map[string]any{"MaxParallelExecutionSteps": 6}})

	callbackToken := func(arn string) string {
		var tok string
		emulatortest.WaitFor(t, func() (bool, string) {
			steps := call("ListPipelineExecutionSteps", map[string]any{"PipelineExecutionArn": arn})["PipelineExecutionSteps"].([]any)
			for _, s := range steps {
				s := s.(map[string]any)
				if s["StepName"] == "Wait" && s["StepStatus"] == "Executing" {
					tok = s["Metadata"].(map[string]any)["Callback"].(map[string]any)["CallbackToken"].(string)
					return true, ""
				}
			}
			return false, fmt.Sprintf("steps %v", steps)
		})
		return tok
	}
	waitStatus := func(arn, want string) {
		emulatortest.WaitFor(t, func() (bool, string) {
			got := call("DescribePipelineExecution", map[string]any{"PipelineExecutionArn": arn})["PipelineExecutionStatus"]
			return got == want, fmt.Sprintf("status %v, want %s", got, want)
		})
	}
	call("SendPipelineExecutionStepFailure", map[string]any{"CallbackToken": callbackToken(arn), "FailureReason": "worker failed", "ClientRequestToken": token(3)})
	waitStatus(arn, "Failed")
	call("ListPipelineExecutionSteps", map[string]any{"PipelineExecutionArn": arn, "SortOrder": "Ascending", "MaxResults": 100})
	call("RetryPipelineExecution", map[string]any{"PipelineExecutionArn": arn, "ClientRequestToken": token(4)})
	call("SendPipelineExecutionStepSuccess", map[string]any{"CallbackToken": callbackToken(arn), "ClientRequestToken": token(5),
		"OutputParameters": []any{map[string]any{"Name": "result", "Value": "ok"}}})
	waitStatus(arn, "Succeeded")
	call("ListPipelineExecutionSteps", map[string]any{"PipelineExecutionArn": arn})
	call("DescribePipelineExecution", map[string]any{"PipelineExecutionArn": arn})

	stopped := call("StartPipelineExecution", map[string]any{"PipelineName": "conform", "ClientRequestToken": token(6)})["PipelineExecutionArn"].(string)
	stoppedToken := callbackToken(stopped)
	call("StopPipelineExecution", map[string]any{"PipelineExecutionArn": stopped, "ClientRequestToken": token(7)})
	call("SendPipelineExecutionStepFailure", map[string]any{"CallbackToken": stoppedToken, "FailureReason": "stopped"})
	waitStatus(stopped, "Stopped")
	call("ListPipelineExecutionSteps", map[string]any{"PipelineExecutionArn": stopped})

	// A Fail step, for its metadata and the execution's failure reason.
	call("CreatePipeline", map[string]any{"PipelineName": "conform-fail", "PipelineDefinition": conditionDef, "ClientRequestToken": token(8), "RoleArn": roleArn})
	failed := call("StartPipelineExecution", map[string]any{"PipelineName": "conform-fail", "ClientRequestToken": token(9),
		"PipelineParameters": []any{map[string]any{"Name": "Threshold", "Value": "0.1"}}})["PipelineExecutionArn"].(string)
	waitStatus(failed, "Failed")
	call("ListPipelineExecutionSteps", map[string]any{"PipelineExecutionArn": failed})
	call("ListPipelineExecutions", map[string]any{"PipelineName": "conform-fail"})

	call("DeletePipeline", map[string]any{"PipelineName": "conform-fail", "ClientRequestToken": token(10)})
	call("DeletePipeline", map[string]any{"PipelineName": "conform", "ClientRequestToken": token(11)})

	for _, op := range m.pipelineOperations() {
		if called[op] == 0 {
			t.Errorf("%s was never answered successfully here: add it to the walk", op)
		}
	}
}

// TestRequestsBreakingTheModelAreRefused builds, for every Pipelines
// operation, a request whose members all satisfy the model, then breaks one
// constraint at a time (a missing required member, a length, a pattern, an
// enum, a range, a list size, a JSON type) and expects the emulator to
// refuse each with ValidationException (SerializationException for a wrong
// type) naming the member.
func TestRequestsBreakingTheModelAreRefused(t *testing.T) {
	t.Parallel()
	m := loadBotocore(t)
	e := newBareEnv(t)
	total := 0
	for _, op := range m.pipelineOperations() {
		in := m.Operations[op].Input.Shape
		base := validValue(t, m, in, 0).(map[string]any)
		status, out, raw := rawCall(t, e.url, op, base)
		if status == http.StatusBadRequest && modelRefusal(out) {
			t.Errorf("%s refused a request that fits the model: %v\n%s", op, base, raw)
			continue
		}
		for _, mu := range mutations(m, in, base, nil, "") {
			total++
			t.Run(op+"/"+mu.name, func(t *testing.T) {
				status, out, raw := rawCall(t, e.url, op, applyMutation(base, mu))
				code, msg := errorOf(out)
				if status != http.StatusBadRequest || code != mu.wantCode {
					t.Fatalf("%s: %d %s, want 400 %s", mu.name, status, raw, mu.wantCode)
				}
				if mu.wantCode == "ValidationException" && !strings.Contains(msg, "'"+mu.path+"' failed to satisfy constraint") {
					t.Errorf("message %q does not name %s", msg, mu.path)
				}
			})
		}
	}
	t.Logf("%d requests breaking one constraint each, over %d operations", total, len(m.pipelineOperations()))
}

func errorOf(out any) (code, message string) {
	obj, _ := out.(map[string]any)
	code, _ = obj["__type"].(string)
	message, _ = obj["Message"].(string)
	return code, message
}

// modelRefusal reports whether an error answer is a refusal on the model's
// grounds, rather than on the emulator's (unknown pipeline, bad definition).
func modelRefusal(out any) bool {
	code, msg := errorOf(out)
	return code == "SerializationException" || (code == "ValidationException" && strings.Contains(msg, "failed to satisfy constraint"))
}

// validValue is a value of the shape that satisfies every constraint, with
// every optional member filled in too, so the mutations reach all of them.
func validValue(t testing.TB, m *botoModel, shapeName string, depth int) any {
	s := m.Shapes[shapeName]
	if depth > 8 {
		t.Fatalf("shape %s nests too deep", shapeName)
	}
	switch s.Type {
	case "structure":
		obj := map[string]any{}
		for name, ref := range s.Members {
			obj[name] = validValue(t, m, ref.Shape, depth+1)
		}
		return obj
	case "list":
		return []any{validValue(t, m, s.Member.Shape, depth+1)}
	case "map":
		return map[string]any{validValue(t, m, s.Key.Shape, depth+1).(string): validValue(t, m, s.Value.Shape, depth+1)}
	case "string", "blob":
		if len(s.Enum) > 0 {
			return s.Enum[0]
		}
		return validString(t, shapeName, s)
	case "integer", "long", "float", "double":
		if s.Min != nil {
			return json.Number(strconv.FormatFloat(*s.Min, 'f', -1, 64))
		}
		return json.Number("1")
	case "timestamp":
		return json.Number("1700000000")
	case "boolean":
		return true
	}
	t.Fatalf("shape %s has type %s", shapeName, s.Type)
	return nil
}

var stringSamples = []string{
	"a", "p1", "abcdefghij", "my-bucket", "0123456789abcdef0123456789abcdef-0000",
	"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc123def456",
	"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p",
	"arn:aws:iam::123456789012:role/r",
}

func validString(t testing.TB, name string, s *botoShape) string {
	re := modelPattern(s.Pattern)
	candidates := slices.Clone(stringSamples)
	if s.Min != nil {
		candidates = append(candidates, strings.Repeat("a", int(*s.Min)))
	}
	for _, c := range candidates {
		n := float64(utf8.RuneCountInString(c))
		if (s.Min != nil && n < *s.Min) || (s.Max != nil && n > *s.Max) {
			continue
		}
		if re == nil || re.MatchString(c) {
			return c
		}
	}
	t.Fatalf("no sample string satisfies %s (%v..%v, %s): add one", name, deref64(s.Min), deref64(s.Max), s.Pattern)
	return ""
}

// mutation breaks one constraint: at is where in the request, value what
// goes there (remove: the member is taken out).
type mutation struct {
	name     string
	at       []any // member names and list indexes
	value    any
	remove   bool
	wantCode string
	path     string // the member as the service's messages name it
}

func mutations(m *botoModel, shapeName string, v any, at []any, path string) []mutation {
	s := m.Shapes[shapeName]
	var out []mutation
	add := func(name string, value any, code string) {
		out = append(out, mutation{name: path + ":" + name, at: slices.Clone(at), value: value, wantCode: code, path: path})
	}
	if path != "" {
		// A JSON type the shape does not take.
		wrong := any("not-a-" + s.Type)
		if s.Type == "string" || s.Type == "blob" {
			wrong = json.Number("12345")
		}
		add("wrong JSON type", wrong, "SerializationException")
	}
	switch s.Type {
	case "structure":
		for _, name := range slices.Sorted(maps.Keys(s.Members)) {
			child := joinMember(path, name)
			childAt := append(slices.Clone(at), name)
			if slices.Contains(s.Required, name) {
				out = append(out, mutation{name: child + ":missing", at: childAt, remove: true, wantCode: "ValidationException", path: child})
			}
			out = append(out, mutations(m, s.Members[name].Shape, v.(map[string]any)[name], childAt, child)...)
		}
	case "list":
		item := v.([]any)[0]
		if s.Min != nil && *s.Min > 0 {
			add("fewer than "+num64(*s.Min)+" items", []any{}, "ValidationException")
		}
		if s.Max != nil && *s.Max < 1000 {
			many := make([]any, int(*s.Max)+1)
			for i := range many {
				many[i] = item
			}
			add("more than "+num64(*s.Max)+" items", many, "ValidationException")
		}
		out = append(out, mutations(m, s.Member.Shape, item, append(slices.Clone(at), 0), path+".member")...)
	case "string":
		str := v.(string)
		if len(s.Enum) > 0 {
			add("not in the enum", "NotAnEnumValue", "ValidationException")
			break
		}
		if s.Min != nil && *s.Min > 0 {
			short := []rune(strings.Repeat(str, int(*s.Min)))[:int(*s.Min)-1]
			add("shorter than "+num64(*s.Min), string(short), "ValidationException")
		}
		if s.Max != nil && *s.Max < 4<<20 {
			add("longer than "+num64(*s.Max), strings.Repeat("a", int(*s.Max)+1), "ValidationException")
		}
		if re := modelPattern(s.Pattern); re != nil {
			for _, c := range []string{"!", " ", "-", "_", "a b", "\n"} {
				bad := c
				for s.Min != nil && float64(utf8.RuneCountInString(bad)) < *s.Min {
					bad += c
				}
				n := float64(utf8.RuneCountInString(bad))
				if (s.Max == nil || n <= *s.Max) && !re.MatchString(bad) {
					add(fmt.Sprintf("not matching the pattern (%q)", bad), bad, "ValidationException")
					break
				}
			}
		}
	case "integer", "long", "float", "double":
		if s.Min != nil {
			add("below "+num64(*s.Min), json.Number(num64(*s.Min-1)), "ValidationException")
		}
		if s.Max != nil {
			add("above "+num64(*s.Max), json.Number(num64(*s.Max+1)), "ValidationException")
		}
	}
	return out
}

func num64(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// joinMember names a member as the service's messages do: lowerCamel,
// dotted.
func joinMember(path, member string) string {
	r, size := utf8.DecodeRuneInString(member)
	name := string(unicode.ToLower(r)) + member[size:]
	if path == "" {
		return name
	}
	return path + "." + name
}

// applyMutation copies base and applies the mutation to the copy.
func applyMutation(base map[string]any, mu mutation) any {
	var root any = deepCopy(base)
	var parent any = root
	for i, step := range mu.at {
		last := i == len(mu.at)-1
		switch key := step.(type) {
		case string:
			obj := parent.(map[string]any)
			if last {
				if mu.remove {
					delete(obj, key)
				} else {
					obj[key] = mu.value
				}
				return root
			}
			parent = obj[key]
		case int:
			list := parent.([]any)
			if last {
				list[key] = mu.value
				return root
			}
			parent = list[key]
		}
	}
	return root
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for k, x := range t {
			c[k] = deepCopy(x)
		}
		return c
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = deepCopy(x)
		}
		return c
	}
	return v
}
