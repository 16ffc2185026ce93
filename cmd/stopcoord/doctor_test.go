package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/sagemaker/emulatortest"
)

// TestDoctorCommandUsesTheSDKEndpoints runs `stopcoord doctor` as a user
// would against local stand-ins, pointed there only by the SDK's
// AWS_ENDPOINT_URL_<SERVICE> variables.
func TestDoctorCommandUsesTheSDKEndpoints(t *testing.T) {
	const scale = 0.05
	m := moto.StartT(t)
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var event struct{ SleepSeconds string } // what the doctor's Python function reads
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &event)
		secs, _ := strconv.ParseFloat(event.SleepSeconds, 64)
		select {
		case <-time.After(time.Duration(secs * scale * float64(time.Second))):
		case <-r.Context().Done():
		}
		io.WriteString(w, `{}`)
	}))
	t.Cleanup(fn.Close)
	emu := emulatortest.StartT(t, emulator.Options{SQSEndpoint: m.URL, TimeScale: scale, Lambda: map[string]emulator.LambdaEndpoint{"*": {URL: fn.URL}},
		Switches: emulator.Switches{NewStoppingToken: true}})
	cfg, _ := localaws.Config(context.Background())
	role, err := iam.NewFromConfig(cfg, func(o *iam.Options) { o.BaseEndpoint = aws.String(m.URL) }).CreateRole(context.Background(), &iam.CreateRoleInput{
		RoleName: aws.String("pipeline"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SAGEMAKER": emu.URL, "AWS_ENDPOINT_URL_SQS": m.URL, "AWS_ENDPOINT_URL_LAMBDA": m.URL,
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(k, v)
	}
	var stdout, stderr strings.Builder
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: os.Getenv, loadAWS: loadDefaultAWS}
	code := c.run(context.Background(), []string{"doctor", "--role", aws.ToString(role.Role.Arn),
		"--lambda-sleep", "80s", "--lambda-timeout", "30s", "--message-wait", "20s", "--poll", "100ms"})
	t.Logf("stopcoord doctor:\n%s", stdout.String())
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	for _, want := range []string{"BEHAVIOUR", "-new-stopping-token=true", "-status-key=status (default)", "Please share this table"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if !strings.Contains(stderr.String(), "deleted SQS queue") || !strings.Contains(stderr.String(), "deleted Lambda function") {
		t.Errorf("the log does not show the cleanup:\n%s", stderr.String())
	}
}

func TestDoctorCommandLine(t *testing.T) {
	var stdout, stderr strings.Builder
	c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	if code := c.run(context.Background(), []string{"doctor", "--permissions"}); code != exitOK || !strings.Contains(stdout.String(), "sagemaker:CreatePipeline") ||
		!strings.Contains(stdout.String(), "sqs:SendMessage") {
		t.Fatalf("--permissions: exit %d\n%s", code, stdout.String())
	}
	if code := c.run(context.Background(), []string{"doctor"}); code != exitUsage || !strings.Contains(stderr.String(), "--role is required") {
		t.Fatalf("no role: exit %d: %s", code, stderr.String())
	}
}
