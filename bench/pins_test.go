package bench_test

import (
	"os/exec"
	"strings"
	"testing"
)

// pin is a service module held at its last version before the SDK's
// schema-based serialisation, whose generated `schemas` package builds
// every shape of the service at package init: in every process that links
// the client, whether or not it calls anything. `make inittrace` shows it.
type pin struct {
	module  string
	version string
	// why: the init it saves, measured with `make inittrace` on the 2-core
	// development VM (before the pin, median of 3 runs, load average ~20).
	why string
	// calls is everything stopcoord (functions and shared/, not tests or
	// local/) calls on the client. Before moving a pin, compare these
	// operations' input and output structs between the two versions.
	calls []string
	// checked is what the comparison with the newest version found when the
	// pin was set.
	checked string
}

var pins = []pin{
	{
		module:  "github.com/aws/aws-sdk-go-v2/service/sagemaker",
		version: "v1.270.1", // v1.271.0 added service/sagemaker/schemas
		why:     "sagemaker/schemas: 19-30 ms and 3.8 MB at init in every function; 1.5 MB of binary",
		calls: []string{"DescribePipelineExecution", "ListPipelineExecutionSteps", "DescribePipeline", "StopPipelineExecution",
			"SendPipelineExecutionStepSuccess", "SendPipelineExecutionStepFailure", "StopTrainingJob", "StopProcessingJob", "StopTransformJob"},
		checked: "against v1.288.1: the inputs and outputs of these calls are the same except new optional fields stopcoord does not use " +
			"(PipelineVersionAlias(es), RoleArn); step metadata gained members (Cleanup, ForEach, EMR Serverless, Athena, HubContent) that " +
			"stopcoord reads as 'no kind it acts on' either way; the CompletedWithFailures status is a string the old client passes through. " +
			"The bug fixes in between are fixes of the schema-based serialiser itself",
	},
	{
		module:  "github.com/aws/aws-sdk-go-v2/service/glue",
		version: "v1.160.0", // v1.161.0 added service/glue/schemas
		why:     "glue/schemas: 15-35 ms and 2.3 MB at init in the functions that clean up",
		calls:   []string{"BatchStopJobRun"},
		checked: "against v1.175.1: BatchStopJobRunInput and BatchStopJobRunOutput are the same",
	},
	{
		module:  "github.com/aws/aws-sdk-go-v2/service/lambda",
		version: "v1.108.0", // v1.109.0 added service/lambda/schemas
		why:     "lambda/schemas: 1.5-8 ms and 0.7 MB at init in the functions that clean up",
		calls:   []string{"Invoke"},
		checked: "against v1.114.4: InvokeInput and InvokeOutput are the same",
	},
	{
		module:  "github.com/aws/aws-sdk-go-v2/service/ecs",
		version: "v1.98.0", // v1.99.0 added service/ecs/schemas
		why:     "ecs/schemas: 6 ms and 0.9 MB at init in the functions that clean up",
		calls:   []string{"StopTask"},
		checked: "against v1.105.1: StopTaskInput and StopTaskOutput are the same",
	},
	{
		module:  "github.com/aws/aws-sdk-go-v2/service/eventbridge",
		version: "v1.48.7", // v1.49.0 added service/eventbridge/schemas
		why:     "eventbridge/schemas: 0.6-0.75 ms and 0.3 MB at init in status-events and the sweeper, which publish Stop Requested and Stop Closed",
		calls:   []string{"PutEvents"},
		checked: "against v1.55.11: PutEventsInput, PutEventsOutput, PutEventsRequestEntry and PutEventsResultEntry are the same",
	},
	// Not pinned: dynamodb (its schemas cost ~1 ms, and v1.74.0 moved
	// DynamoDB's retry defaults into the client, which the ledger relies
	// on), sqs (0.3 ms), and sts, sso, ssooidc and signin, which the config
	// module requires at its own versions (under 0.5 ms together).
}

// TestServiceModulePins fails when a pinned module is moved, with the
// reason it was pinned and what to check before moving it. Moving one on
// purpose means running that check, `make bench`, and updating the pin.
func TestServiceModulePins(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	for _, p := range pins {
		// The version every build of the module selects (go.mod, after
		// minimal version selection), as `go build` will link it.
		out, err := exec.Command(goTool, "list", "-m", "-f", "{{.Version}}", p.module).Output()
		if err != nil {
			t.Errorf("go list -m %s: %v (drop the pin if stopcoord no longer uses it)", p.module, err)
			continue
		}
		if got := strings.TrimSpace(string(out)); got != p.version {
			t.Errorf("%s is %s, pinned at %s because %s.\nBefore moving it, compare what stopcoord calls (%s) between the versions; at the pin, %s.\nThen run `make inittrace` and `make bench`, and update the pin here.",
				p.module, got, p.version, p.why, strings.Join(p.calls, ", "), p.checked)
		}
	}
}

// cleaningFunctions link the cleaners' clients (Lambda, Glue, ECS, Batch,
// Step Functions); the other functions must not pay for their init, which
// runs in every process that imports a client's package, called or not
// (each service's endpoint table compiles its regular expressions). The
// sweeper is one while it re-drives cleanups in its own process.
var cleaningFunctions = map[string]bool{"callback": true, "sweeper": true}

// TestFunctionImports holds every function to what keeps its init at the
// floor: no pinned service's schemas package, and no cleaner client in a
// function that does not clean up.
func TestFunctionImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	for _, fn := range []string{"callback", "status-events", "stop-api", "stop-queue", "sweeper"} {
		out, err := exec.Command(goTool, "list", "-deps", "-f", `{{if not .Standard}}{{.ImportPath}}{{end}}`, "../functions/"+fn).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fn, err)
		}
		deps := strings.Fields(string(out))
		for _, dep := range deps {
			for _, p := range pins {
				if dep == p.module+"/schemas" {
					t.Errorf("%s links %s: its package init is what the pin avoids", fn, dep)
				}
			}
			if cleaningFunctions[fn] {
				continue
			}
			for _, cleaner := range []string{"lambda", "glue", "ecs", "batch", "sfn"} {
				if dep == "github.com/aws/aws-sdk-go-v2/service/"+cleaner {
					t.Errorf("%s links the %s client but does not clean up", fn, cleaner)
				}
			}
		}
	}
}
