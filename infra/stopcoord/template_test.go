package stopcoord

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]any      `json:"Outputs"`
}

func templateJSON(t *testing.T, stack awscdk.Stack) template {
	t.Helper()
	raw, err := json.Marshal(assertions.Template_FromStack(stack, nil).ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var tmpl template
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func (tmpl template) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range tmpl.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// function finds the Lambda function a GoFunction construct with this id made.
func (tmpl template) function(t *testing.T, constructID string) (string, resource) {
	t.Helper()
	var found []string
	for id := range tmpl.ofType("AWS::Lambda::Function") {
		if strings.HasPrefix(id, constructID) {
			found = append(found, id)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one function from construct %s, found %v", constructID, found)
	}
	return found[0], tmpl.Resources[found[0]]
}

func functionEnvironment(t *testing.T, tmpl template, constructID string) map[string]any {
	t.Helper()
	_, fn := tmpl.function(t, constructID)
	env, _ := fn.Properties["Environment"].(map[string]any)
	vars, _ := env["Variables"].(map[string]any)
	return vars
}

func TestFunctionsQueuesAndAPI(t *testing.T) {
	tmpl := templateJSON(t, synthesize(t))

	fns := tmpl.ofType("AWS::Lambda::Function")
	if len(fns) != len(functionIDs()) {
		t.Fatalf("%d functions in the template, want %d (one per functions/ folder)", len(fns), len(functionIDs()))
	}
	timeouts := map[string]float64{}
	for id, fn := range fns {
		p := fn.Properties
		if p["Runtime"] != "provided.al2023" || p["Handler"] != "bootstrap" || fmt.Sprint(p["Architectures"]) != "[arm64]" {
			t.Errorf("%s: runtime %v handler %v architectures %v", id, p["Runtime"], p["Handler"], p["Architectures"])
		}
		if fmt.Sprint(p["TracingConfig"]) != "map[Mode:Active]" || p["LoggingConfig"].(map[string]any)["LogFormat"] != "JSON" {
			t.Errorf("%s: tracing %v logging %v", id, p["TracingConfig"], p["LoggingConfig"])
		}
		timeouts[id] = p["Timeout"].(float64)
	}

	// Every consumed queue: encrypted, TLS only, a DLQ, visibility >= 6x
	// the consumer's timeout, partial batch responses.
	mappings := tmpl.ofType("AWS::Lambda::EventSourceMapping")
	if len(mappings) == 0 {
		t.Fatal("no SQS event source mappings")
	}
	for id, m := range mappings {
		if fmt.Sprint(m.Properties["FunctionResponseTypes"]) != "[ReportBatchItemFailures]" {
			t.Errorf("%s: FunctionResponseTypes %v", id, m.Properties["FunctionResponseTypes"])
		}
		queueID := m.Properties["EventSourceArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		fnID := m.Properties["FunctionName"].(map[string]any)["Ref"].(string)
		q := tmpl.Resources[queueID].Properties
		if vt := q["VisibilityTimeout"].(float64); vt < 6*timeouts[fnID] {
			t.Errorf("%s: visibility timeout %vs < 6 x %vs", queueID, vt, timeouts[fnID])
		}
		if q["RedrivePolicy"] == nil {
			t.Errorf("%s has no dead-letter queue", queueID)
		}
	}
	for id, q := range tmpl.ofType("AWS::SQS::Queue") {
		if q.Properties["SqsManagedSseEnabled"] != true {
			t.Errorf("%s is not encrypted", id)
		}
	}
	for id, p := range tmpl.ofType("AWS::SQS::QueuePolicy") {
		if !strings.Contains(fmt.Sprint(p.Properties), "aws:SecureTransport") {
			t.Errorf("%s does not enforce TLS", id)
		}
	}
	if got, want := len(tmpl.ofType("AWS::SQS::QueuePolicy")), len(tmpl.ofType("AWS::SQS::Queue")); got != want {
		t.Errorf("%d queue policies for %d queues: every queue enforces TLS", got, want)
	}

	routes := tmpl.ofType("AWS::ApiGatewayV2::Route")
	if len(routes) != len(Routes) {
		t.Fatalf("%d routes, want %d", len(routes), len(Routes))
	}
	for id, r := range routes {
		if r.Properties["AuthorizationType"] != "AWS_IAM" {
			t.Errorf("route %s (%v) is not IAM-authorised", id, r.Properties["RouteKey"])
		}
	}
	for id, s := range tmpl.ofType("AWS::ApiGatewayV2::Stage") {
		if s.Properties["AccessLogSettings"] == nil || s.Properties["DefaultRouteSettings"] == nil {
			t.Errorf("stage %s: access logs %v throttling %v", id, s.Properties["AccessLogSettings"], s.Properties["DefaultRouteSettings"])
		}
	}

	// SageMaker permissions are scoped to pipelines, never "*", except the
	// callback answers, whose requests name no ARN.
	for id, p := range tmpl.ofType("AWS::IAM::Policy") {
		doc := p.Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			st := st.(map[string]any)
			actions := fmt.Sprint(st["Action"])
			if strings.Contains(actions, "sagemaker:") && !strings.Contains(actions, "SendPipelineExecutionStep") && st["Resource"] == "*" {
				t.Errorf("%s grants %s on every resource", id, actions)
			}
		}
	}

	alarms := tmpl.ofType("AWS::CloudWatch::Alarm")
	if want := len(functionIDs()) + len(mappings); len(alarms) < want {
		t.Errorf("%d alarms, want at least one per function and per DLQ (%d)", len(alarms), want)
	}
	for _, name := range []string{"ApiUrl", "LedgerTableName", "StopQueueUrl"} {
		if tmpl.Outputs[name] == nil {
			t.Errorf("no output %s", name)
		}
	}
}
