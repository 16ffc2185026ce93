package cleanup_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/shared/callback"
)

// One moto_server for the whole test binary.
var shared struct {
	once sync.Once
	srv  *moto.Server
	err  error
}

// binDir holds what the tests build once.
var binDir string

func TestMain(m *testing.M) {
	var err error
	if binDir, err = os.MkdirTemp("", "cleanup-test-"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	if shared.srv != nil {
		shared.srv.Stop()
	}
	os.Exit(code)
}

// motoURL starts the shared moto_server on first use.
func motoURL(t *testing.T) string {
	t.Helper()
	path := procs.RequireTool(t, "moto_server", moto.InstallHint)
	shared.once.Do(func() { shared.srv, shared.err = moto.Start(context.Background(), path) })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.srv.URL
}

func awsConfig(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := localaws.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

var cc = callback.Context{Token: "26vcYbeWsZ", ExecutionARN: "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc", StepName: "Etl", Status: callback.StatusStopping}

// jsonService is an httptest server speaking AWS JSON 1.1 for the
// operations moto lacks: each target answers with a status and a body.
type jsonService struct {
	URL     string
	mu      sync.Mutex
	targets []string
	bodies  []string
}

type reply struct {
	status int
	body   string
}

func newJSONService(t *testing.T, replies map[string]reply) *jsonService {
	s := &jsonService{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.Header.Get("X-Amz-Target")
		buf := make([]byte, 4096)
		n, _ := r.Body.Read(buf)
		s.mu.Lock()
		s.targets = append(s.targets, target)
		s.bodies = append(s.bodies, string(buf[:n]))
		s.mu.Unlock()
		rep, ok := replies[target]
		if !ok {
			rep = reply{400, fmt.Sprintf(`{"__type":"UnknownOperationException","message":"%s"}`, target)}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(rep.status)
		w.Write([]byte(rep.body))
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

func (s *jsonService) calls() ([]string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.targets...), append([]string(nil), s.bodies...)
}

// motoQuery calls an AWS Query-protocol action on moto for the setup the
// module has no SDK client for (IAM roles, EC2 subnets). moto reads the
// service and region from the credential scope and checks no signature.
func motoQuery(t *testing.T, service, version, action string, params url.Values) string {
	t.Helper()
	if params == nil {
		params = url.Values{}
	}
	params.Set("Action", action)
	params.Set("Version", version)
	req, err := http.NewRequest(http.MethodPost, motoURL(t)+"/", strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20261125/us-east-1/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", service, action, resp.StatusCode, body)
	}
	return string(body)
}

// between returns the text between the first open and the next close.
func between(s, open, close string) string {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, close)
	return v
}
