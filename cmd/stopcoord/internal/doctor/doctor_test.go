package doctor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/stopcoord/stopcoord/cmd/stopcoord/internal/doctor"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// timeScale shrinks the emulator's modelled durations (Lambda step
// timeouts) and, the same way, the stand-in function's sleep.
const timeScale = 0.05

// function stands in for the doctor's temporary Python function, which
// the emulator cannot run: it does what that code does (sleep as long as
// the event says), at the emulator's time scale.
func function(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var event struct{ SleepSeconds string }
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &event)
		secs, _ := strconv.ParseFloat(event.SleepSeconds, 64)
		select {
		case <-time.After(time.Duration(secs * timeScale * float64(time.Second))):
		case <-r.Context().Done():
		}
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// bed is moto (SQS, Lambda, IAM) with the role the user would pass.
type bed struct {
	motoURL string
	cfg     aws.Config
	role    string
}

func newBed(t *testing.T) *bed {
	m := moto.StartT(t)
	cfg, err := localaws.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(m.URL) }).CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName:                 aws.String("doctor-pipeline"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["sagemaker.amazonaws.com","lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &bed{motoURL: m.URL, cfg: cfg, role: aws.ToString(out.Role.Arn)}
}

func (b *bed) deps(sageMakerURL string) doctor.Deps {
	return doctor.Deps{
		SageMaker: sagemaker.NewFromConfig(b.cfg, func(o *sagemaker.Options) { o.BaseEndpoint = aws.String(sageMakerURL) }),
		SQS:       b.sqs(),
		Lambda:    b.lambda(),
	}
}

func (b *bed) sqs() *sqs.Client {
	return sqs.NewFromConfig(b.cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(b.motoURL) })
}

func (b *bed) lambda() *lambda.Client {
	return lambda.NewFromConfig(b.cfg, func(o *lambda.Options) { o.BaseEndpoint = aws.String(b.motoURL) })
}

func (b *bed) config(prefix string) doctor.Config {
	return doctor.Config{
		RoleARN: b.role, Prefix: prefix,
		LambdaSleep:   80 * time.Second, // 4 s here: the stop finds the Lambda step running, and it ends before its 120 s (6 s) default timeout
		LambdaTimeout: 30 * time.Second, // 1.5 s here; the function runs 3 s
		MessageWait:   20 * time.Second, // real seconds: how long a dropped Stopping message is waited for
		Poll:          100 * time.Millisecond,
	}
}

// assertNothingLeft checks that no queue, function or pipeline of the run
// is left.
func (b *bed) assertNothingLeft(t *testing.T, prefix string, sm *sagemaker.Client, report *doctor.Report) {
	t.Helper()
	ctx := context.Background()
	if len(report.Created) == 0 || len(report.Deleted) != len(report.Created) {
		t.Errorf("created %v, deleted %v", report.Created, report.Deleted)
	}
	queues, err := b.sqs().ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(prefix)})
	if err != nil || len(queues.QueueUrls) != 0 {
		t.Errorf("queues left: %v (%v)", queues.QueueUrls, err)
	}
	fns, err := b.lambda().ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fns.Functions {
		if strings.HasPrefix(aws.ToString(f.FunctionName), prefix) {
			t.Errorf("function left: %s", aws.ToString(f.FunctionName))
		}
	}
	pipelines, err := sm.ListPipelines(ctx, &sagemaker.ListPipelinesInput{PipelineNamePrefix: aws.String(prefix)})
	if err != nil || len(pipelines.PipelineSummaries) != 0 {
		t.Errorf("pipelines left: %d (%v)", len(pipelines.PipelineSummaries), err)
	}
}

// TestDoctorDetectsEverySwitch runs the doctor against the emulator under
// each setting of every switch it probes, and checks it names that
// setting, finds every other behaviour as the emulator models it, and
// leaves nothing behind.
func TestDoctorDetectsEverySwitch(t *testing.T) {
	b := newBed(t)
	fn := function(t)
	defaults := map[string]string{
		"Stopping message's callback token (#1)":                          "-new-stopping-token=false (default)",
		"status member's key in callback messages (#2)":                   "-status-key=status (default)",
		"start message carries a status (#2)":                             "-omit-start-status=false (default)",
		"a Stopping message is sent for a running callback step":          "-drop-stopping-message=0 (default)",
		"steps RetryPipelineExecution runs again (#15)":                   "-retry-reruns-all=false (default)",
		"token of a retried callback step (#16)":                          "-retry-keeps-callback-token=false (default)",
		"steps listed after a retry (#17)":                                "-list-every-attempt=false (default)",
		"UpdatePipeline without a new definition records a version (#18)": "-version-on-definition-change=false (default)",
	}
	tests := []struct {
		name     string
		switches emulator.Switches
		want     map[string]string // findings that differ from defaults
	}{
		{"defaults", emulator.Switches{}, nil},
		{"new-stopping-token", emulator.Switches{NewStoppingToken: true}, map[string]string{
			"Stopping message's callback token (#1)":                      "-new-stopping-token=true",
			"answering the start token after the Stopping token (#1, #3)": "same (no switch)",
		}},
		{"status-key", emulator.Switches{StatusKey: "Status"}, map[string]string{"status member's key in callback messages (#2)": "-status-key=Status"}},
		{"omit-start-status", emulator.Switches{OmitStartStatus: true}, map[string]string{"start message carries a status (#2)": "-omit-start-status=true"}},
		{"drop-stopping-message", emulator.Switches{DropStoppingMessage: 1}, map[string]string{
			"a Stopping message is sent for a running callback step": "-drop-stopping-message=1",
			"Stopping message's callback token (#1)":                 "-",
		}},
		{"retry-reruns-all", emulator.Switches{RetryRerunsAll: true}, map[string]string{"steps RetryPipelineExecution runs again (#15)": "-retry-reruns-all=true"}},
		{"retry-keeps-callback-token", emulator.Switches{RetryKeepsCallbackToken: true}, map[string]string{"token of a retried callback step (#16)": "-retry-keeps-callback-token=true"}},
		{"list-every-attempt", emulator.Switches{ListEveryAttempt: true}, map[string]string{"steps listed after a retry (#17)": "-list-every-attempt=true"}},
		{"version-on-definition-change", emulator.Switches{VersionOnDefinitionChange: true}, map[string]string{"UpdatePipeline without a new definition records a version (#18)": "-version-on-definition-change=true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			emu := emulatortest.StartT(t, emulator.Options{SQSEndpoint: b.motoURL, TimeScale: timeScale,
				Lambda: map[string]emulator.LambdaEndpoint{"*": {URL: fn}}, Switches: tt.switches})
			prefix := "doctor-" + tt.name
			var log strings.Builder
			cfg := b.config(prefix)
			cfg.Log = &syncWriter{w: &log}
			report, err := doctor.Run(context.Background(), b.deps(emu.URL), cfg)
			if err != nil {
				t.Fatalf("doctor: %v\n%s", err, log.String())
			}
			var table strings.Builder
			report.Print(&table)
			t.Logf("%s:\n%s", tt.name, table.String())
			want := map[string]string{}
			for k, v := range defaults {
				want[k] = v
			}
			for k, v := range tt.want {
				want[k] = v
			}
			for behaviour, setting := range want {
				f, ok := report.Find(behaviour)
				if setting == "-" {
					if ok && f.Emulator != "" {
						t.Errorf("%s: %q, want no setting", behaviour, f.Emulator)
					}
					continue
				}
				if !ok || f.Emulator != setting {
					t.Errorf("%s: found %q (observed %q), want %q", behaviour, f.Emulator, f.Observed, setting)
				}
			}
			for _, f := range report.Findings {
				if f.Differs {
					t.Errorf("%s: observed %q, which the emulator does not do: %s", f.Behaviour, f.Observed, f.Emulator)
				}
				if strings.HasPrefix(f.Observed, "not observed") && f.Behaviour != "Stopping message's callback token (#1)" {
					t.Errorf("%s: %s", f.Behaviour, f.Observed)
				}
			}
			if len(report.Findings) < 16 {
				t.Errorf("%d findings, want every behaviour", len(report.Findings))
			}
			b.assertNothingLeft(t, prefix, emu.Client, report)
		})
	}
}

// TestDoctorCleansUpWhenCancelled: Ctrl-C in the middle of a run still
// deletes everything created so far.
func TestDoctorCleansUpWhenCancelled(t *testing.T) {
	b := newBed(t)
	emu := emulatortest.StartT(t, emulator.Options{SQSEndpoint: b.motoURL, TimeScale: timeScale, Lambda: map[string]emulator.LambdaEndpoint{"*": {URL: function(t)}}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := b.config("doctor-cancelled")
	// Cancel once the stop probe's execution has started, as a user
	// pressing Ctrl-C while the doctor waits.
	cfg.Log = &syncWriter{w: io.Discard, onLine: func(line string) {
		if strings.Contains(line, "started") && strings.Contains(line, "-stop/execution/") {
			cancel()
		}
	}}
	report, err := doctor.Run(ctx, b.deps(emu.URL), cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	b.assertNothingLeft(t, "doctor-cancelled", emu.Client, report)
}

func TestConfigIsChecked(t *testing.T) {
	for name, cfg := range map[string]doctor.Config{
		"no role":          {},
		"timeout too long": {RoleARN: "arn:aws:iam::123456789012:role/r", LambdaTimeout: time.Minute},
		"sleep too long":   {RoleARN: "arn:aws:iam::123456789012:role/r", LambdaSleep: 3 * time.Minute},
	} {
		if _, err := doctor.Run(context.Background(), doctor.Deps{}, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// syncWriter serialises the doctor's log lines and lets a test act on
// them.
type syncWriter struct {
	mu     sync.Mutex
	w      io.Writer
	onLine func(string)
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.onLine != nil {
		s.onLine(string(p))
	}
	return s.w.Write(p)
}

// refusesTimeout is SageMaker as it would be if a definition-level Lambda
// Timeout were not part of the definition schema: the emulator, except
// that such a definition is refused.
type refusesTimeout struct{ *sagemaker.Client }

func (r refusesTimeout) CreatePipeline(ctx context.Context, in *sagemaker.CreatePipelineInput, opts ...func(*sagemaker.Options)) (*sagemaker.CreatePipelineOutput, error) {
	if strings.Contains(aws.ToString(in.PipelineDefinition), `"Timeout"`) {
		return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "Unknown property Timeout in step DoctorLambdaTimeout"}
	}
	return r.Client.CreatePipeline(ctx, in, opts...)
}

// TestDoctorReportsARefusedTimeout: a refused definition is a finding,
// and the other probes still run.
func TestDoctorReportsARefusedTimeout(t *testing.T) {
	b := newBed(t)
	emu := emulatortest.StartT(t, emulator.Options{SQSEndpoint: b.motoURL, TimeScale: timeScale, Lambda: map[string]emulator.LambdaEndpoint{"*": {URL: function(t)}}})
	deps := b.deps(emu.URL)
	deps.SageMaker = refusesTimeout{emu.Client}
	report, err := doctor.Run(context.Background(), deps, b.config("doctor-refused"))
	if err != nil {
		t.Fatal(err)
	}
	f, ok := report.Find("definition-level Lambda Timeout (shorter than the function runs)")
	if !ok || !f.Differs || !strings.Contains(f.Observed, "refused: ValidationException") {
		t.Fatalf("finding %+v", f)
	}
	if f, ok := report.Find("Stopping message's callback token (#1)"); !ok || f.Emulator != "-new-stopping-token=false (default)" {
		t.Fatalf("the stop probe did not run: %+v", f)
	}
	b.assertNothingLeft(t, "doctor-refused", emu.Client, report)
}
