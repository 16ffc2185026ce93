package stopcoord

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

// cleanerActions are what the cleaners and the worker hand-off call.
var cleanerActions = []string{"states:StopExecution", "glue:BatchStopJobRun", "batch:TerminateJob", "ecs:StopTask",
	"sagemaker:StopTrainingJob", "sagemaker:StopProcessingJob", "sagemaker:StopTransformJob", "lambda:InvokeFunction", "sqs:SendMessage"}

// cleanerStatements lists, per function role policy, the statements that
// grant a cleaner action, with their resources as the template writes them.
func cleanerStatements(t *testing.T, tmpl template) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for id, r := range tmpl.ofType("AWS::IAM::Policy") {
		doc, _ := r.Properties["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			st := s.(map[string]any)
			actions := st["Action"]
			list, ok := actions.([]any)
			if !ok {
				list = []any{actions}
			}
			for _, a := range list {
				if !slices.Contains(cleanerActions, fmt.Sprint(a)) {
					continue
				}
				res, _ := json.Marshal(st["Resource"])
				out[id] = append(out[id], fmt.Sprintf("%s %s", a, res))
			}
		}
	}
	return out
}

// TestCleanerGrantsFollowTheScope (issue 12): without a cleanup scope no
// role may stop or invoke anything a callback step names; with one, each
// cleaner action is granted on the scope's patterns only, never on a bare
// "*" or a whole service, and cdk-nag still has no unsuppressed finding.
func TestCleanerGrantsFollowTheScope(t *testing.T) {
	t.Run("no scope, no grant", func(t *testing.T) {
		for id, grants := range cleanerStatements(t, templateJSON(t, synthesize(t))) {
			for _, g := range grants {
				// The stack's own queues (the stop queue) are granted by
				// reference, not by a pattern.
				if strings.HasPrefix(g, "sqs:SendMessage") && strings.Contains(g, "Fn::GetAtt") && !strings.Contains(g, "arn:") {
					continue
				}
				t.Errorf("%s grants %s with no cleanup scope", id, g)
			}
		}
	})
	t.Run("a scope, its patterns only", func(t *testing.T) {
		scope := map[string]any{"sfn-execution": []any{"arn:aws:states:*:*:execution:etl-*:*"}, "glue-job-run": []any{"features-*"},
			"lambda-cleanup": []any{"stopcoord-cleanup-*"}, "worker-queue": []any{"https://sqs.eu-west-1.amazonaws.com/123456789012/etl-work"}}
		stack := synthesize(t, map[string]any{contextCleanupScope: scope})
		grants := cleanerStatements(t, templateJSON(t, stack))
		var all []string
		for _, gs := range grants {
			all = append(all, gs...)
		}
		joined := strings.Join(all, "\n")
		for _, want := range []string{`states:StopExecution "arn:aws:states:*:*:execution:etl-*:*"`, ":job/features-*", ":function:stopcoord-cleanup-*", ":etl-work"} {
			if !strings.Contains(joined, want) {
				t.Errorf("grants lack %s:\n%s", want, joined)
			}
		}
		for _, g := range all {
			if strings.HasSuffix(g, ` "*"`) || strings.Contains(g, ":function:*") || strings.Contains(g, "execution:*\"") || strings.Contains(g, ":job/*\"") {
				t.Errorf("wildcard cleaner grant: %s", g)
			}
			if strings.HasPrefix(g, "batch:") || strings.HasPrefix(g, "ecs:") || strings.HasPrefix(g, "sagemaker:StopTrainingJob") {
				t.Errorf("a kind outside the scope is granted: %s", g)
			}
		}
		annotations := assertions.Annotations_FromStack(stack)
		rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		for _, found := range []*[]*cxapi.SynthesisMessage{annotations.FindError(jsii.String("*"), rule), annotations.FindWarning(jsii.String("*"), rule)} {
			for _, m := range *found {
				t.Errorf("cdk-nag finding at %s: %v", *m.Id, m.Entry.Data)
			}
		}
	})
	t.Run("a bad scope fails synth with every problem", func(t *testing.T) {
		_, err := PropsFromContext(func(key *string) any {
			if *key == contextCleanupScope {
				return `{"emr-cluster":["*"],"sfn-execution":[""]}`
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "emr-cluster") || !strings.Contains(err.Error(), "empty pattern") {
			t.Fatalf("err = %v, want both problems named", err)
		}
	})
}
