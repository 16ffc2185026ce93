package emulator_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stopcoord/stopcoord/local/procs"
)

// botocore's copy of the SageMaker service model is the reference the
// emulator is held against: it is on every machine with awscli or moto.

const botocoreHint = "botocore (the SageMaker service model) not found: python3 -m pip install botocore (it comes with awscli and moto)"

var update = flag.Bool("update", false, "rewrite servicemodel.json from botocore's SageMaker service model")

// botoShape is one shape of the service model, as botocore stores it.
type botoShape struct {
	Type     string             `json:"type"`
	Required []string           `json:"required,omitempty"`
	Members  map[string]botoRef `json:"members,omitempty"`
	Member   *botoRef           `json:"member,omitempty"`
	Key      *botoRef           `json:"key,omitempty"`
	Value    *botoRef           `json:"value,omitempty"`
	Min      *float64           `json:"min,omitempty"`
	Max      *float64           `json:"max,omitempty"`
	Pattern  string             `json:"pattern,omitempty"`
	Enum     []string           `json:"enum,omitempty"`
}

type botoRef struct {
	Shape string `json:"shape"`
}

type botoOperation struct {
	Input  *botoRef  `json:"input"`
	Output *botoRef  `json:"output"`
	Errors []botoRef `json:"errors"`
}

type botoModel struct {
	Metadata struct {
		APIVersion string `json:"apiVersion"`
	} `json:"metadata"`
	Operations map[string]botoOperation `json:"operations"`
	Shapes     map[string]*botoShape    `json:"shapes"`
	path       string
}

// pipelineOperations is every SageMaker Pipelines operation in the model:
// those whose name mentions Pipeline.
func (m *botoModel) pipelineOperations() []string {
	var ops []string
	for name := range m.Operations {
		if strings.Contains(name, "Pipeline") {
			ops = append(ops, name)
		}
	}
	slices.Sort(ops)
	return ops
}

// loadBotocore finds botocore through python3 and reads the newest SageMaker
// model it ships. Without python3 or botocore the test is skipped with an
// install hint, and fails when CI=true.
func loadBotocore(t testing.TB) *botoModel {
	t.Helper()
	python := procs.RequireTool(t, "python3", botocoreHint)
	out, err := exec.Command(python, "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		procs.Missing(t, botocoreHint)
		return nil
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "data", "sagemaker")
	versions, err := os.ReadDir(dir)
	if err != nil || len(versions) == 0 {
		procs.Missing(t, botocoreHint+": no "+dir)
		return nil
	}
	latest := filepath.Join(dir, versions[len(versions)-1].Name())
	var raw []byte
	for _, name := range []string{"service-2.json.gz", "service-2.json"} {
		b, err := os.ReadFile(filepath.Join(latest, name))
		if err != nil {
			continue
		}
		if strings.HasSuffix(name, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("read %s: %v", name, err)
			}
		}
		raw = b
		latest = filepath.Join(latest, name)
		break
	}
	if raw == nil {
		procs.Missing(t, botocoreHint+": no service-2.json in "+latest)
		return nil
	}
	m := &botoModel{path: latest}
	if err := json.Unmarshal(raw, m); err != nil {
		t.Fatalf("decode %s: %v", latest, err)
	}
	return m
}

// TestEmbeddedModelIsBotocores checks that servicemodel.json, the copy of
// the input shapes the emulator validates requests against, is what
// botocore's model says; `go test -run TestEmbeddedModelIsBotocores -update`
// regenerates it.
func TestEmbeddedModelIsBotocores(t *testing.T) {
	m := loadBotocore(t)
	type embedded struct {
		Source     string                `json:"source"`
		APIVersion string                `json:"apiVersion"`
		Operations map[string]string     `json:"operations"`
		Shapes     map[string]*botoShape `json:"shapes"`
	}
	want := embedded{Source: "botocore data/sagemaker/" + m.Metadata.APIVersion + "/service-2.json, input shapes of the Pipelines operations",
		APIVersion: m.Metadata.APIVersion, Operations: map[string]string{}, Shapes: map[string]*botoShape{}}
	var visit func(name string)
	visit = func(name string) {
		if _, done := want.Shapes[name]; done {
			return
		}
		s := m.Shapes[name]
		want.Shapes[name] = s
		for _, r := range s.Members {
			visit(r.Shape)
		}
		for _, r := range []*botoRef{s.Member, s.Key, s.Value} {
			if r != nil {
				visit(r.Shape)
			}
		}
	}
	for _, op := range m.pipelineOperations() {
		in := m.Operations[op].Input.Shape
		want.Operations[op] = in
		visit(in)
	}
	b, err := json.MarshalIndent(want, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile("servicemodel.json", b, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote servicemodel.json from %s", m.path)
		return
	}
	got, err := os.ReadFile("servicemodel.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b) {
		t.Errorf("servicemodel.json differs from %s; run go test -run TestEmbeddedModelIsBotocores -update", m.path)
	}
}
