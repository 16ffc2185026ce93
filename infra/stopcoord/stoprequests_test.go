package stopcoord

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
)

// stopRequestRule finds the rule that routes Stop Requested events.
func stopRequestRule(t *testing.T, tmpl template) resource {
	t.Helper()
	var found []resource
	for _, r := range tmpl.ofType("AWS::Events::Rule") {
		if strings.Contains(fmt.Sprint(r.Properties["EventPattern"]), detailStopRequested) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d rules match Stop Requested events, want 1", len(found))
	}
	return found[0]
}

// busStatements are the statements of every policy on the bus, by Sid.
func busStatements(t *testing.T, tmpl template, busID string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, p := range tmpl.ofType("AWS::Events::EventBusPolicy") {
		if ref, _ := p.Properties["EventBusName"].(map[string]any); ref["Ref"] != busID {
			t.Errorf("event bus policy %s is on %v, not stopcoord's bus %s", id, p.Properties["EventBusName"], busID)
			continue
		}
		st, _ := p.Properties["Statement"].(map[string]any)
		if st == nil {
			t.Fatalf("event bus policy %s has no statement: %v", id, p.Properties)
		}
		sid := fmt.Sprint(p.Properties["StatementId"])
		if sid == "<nil>" {
			sid = fmt.Sprint(st["Sid"])
		}
		out[strings.TrimPrefix(sid, "cdk-")] = st // CDK prefixes the Sid it is given
	}
	return out
}

// TestStopRequestsOnlyFromConfiguredRequesters (issue 12, case 5): Stop
// Requested events reach the function only from stopcoord's own bus,
// whose policy refuses other accounts, other sources and detail types,
// and principals not configured; the rule's pattern names the account.
func TestStopRequestsOnlyFromConfiguredRequesters(t *testing.T) {
	requesters := []any{"arn:aws:iam::123456789012:role/ops-*", "arn:aws:iam::123456789012:role/budget-alarm"}
	for _, tc := range []struct {
		name       string
		context    map[string]any
		requesters []any
	}{
		{"no requesters configured", nil, nil},
		{"requesters configured", map[string]any{contextStopRequesters: requesters}, requesters},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stack := synthesize(t, tc.context)
			tmpl := templateJSON(t, stack)
			buses := tmpl.ofType("AWS::Events::EventBus")
			if len(buses) != 1 {
				t.Fatalf("%d event buses, want stopcoord's own", len(buses))
			}
			var busID string
			for id := range buses {
				busID = id
			}

			rule := stopRequestRule(t, tmpl)
			if ref, _ := rule.Properties["EventBusName"].(map[string]any); ref["Ref"] != busID {
				t.Errorf("the Stop Requested rule is on %v, want stopcoord's bus %s (not the default bus)", rule.Properties["EventBusName"], busID)
			}
			pattern, _ := json.Marshal(rule.Properties["EventPattern"])
			want := `{"account":[{"Ref":"AWS::AccountId"}],"detail-type":["Stop Requested"],"source":["stopcoord"]}`
			if string(pattern) != want {
				t.Errorf("pattern %s, want %s", pattern, want)
			}
			for _, r := range tmpl.ofType("AWS::Events::Rule") {
				if r.Properties["EventBusName"] == nil && strings.Contains(fmt.Sprint(r.Properties["EventPattern"]), "stopcoord") {
					t.Errorf("a rule on the default bus takes stopcoord events: %v", r.Properties["EventPattern"])
				}
			}

			statements := busStatements(t, tmpl, busID)
			wantDenies := map[string]string{
				"OnlyThisAccount":     `{"StringNotEquals":{"aws:PrincipalAccount":{"Ref":"AWS::AccountId"}}}`,
				"OnlySourceStopcoord": `{"StringNotEquals":{"events:source":"stopcoord"}}`,
				"OnlyStopRequested":   `{"StringNotEquals":{"events:detail-type":"Stop Requested"}}`,
			}
			if tc.requesters != nil {
				r, _ := json.Marshal(tc.requesters)
				wantDenies["OnlyConfiguredRequesters"] = `{"ArnNotLike":{"aws:PrincipalArn":` + string(r) + `}}`
			}
			if len(statements) != len(wantDenies) {
				t.Errorf("bus policy statements %v, want exactly %v", keys(statements), keys(wantDenies))
			}
			for sid, cond := range wantDenies {
				st, ok := statements[sid]
				if !ok {
					t.Errorf("no statement %s on the bus", sid)
					continue
				}
				got, _ := json.Marshal(st["Condition"])
				resource, _ := json.Marshal(st["Resource"])
				if string(resource) != `{"Fn::GetAtt":["`+busID+`","Arn"]}` {
					t.Errorf("statement %s is on %s, want the bus", sid, resource)
				}
				if st["Effect"] != "Deny" || fmt.Sprint(st["Action"]) != "events:PutEvents" || fmt.Sprint(st["Principal"]) != "map[AWS:*]" || string(got) != cond {
					t.Errorf("statement %s: %v, want Deny events:PutEvents to every principal when %s", sid, st, cond)
				}
			}
			for sid, st := range statements {
				if st["Effect"] == "Allow" {
					t.Errorf("statement %s allows %v: the bus must grant no account anything", sid, st)
				}
			}

			if tmpl.Outputs["StopRequestBusName"] == nil {
				t.Error("no StopRequestBusName output: requesters would not know where to send")
			}
			annotations := assertions.Annotations_FromStack(stack)
			rule2 := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
			for _, found := range []*[]*cxapi.SynthesisMessage{annotations.FindError(jsii.String("*"), rule2), annotations.FindWarning(jsii.String("*"), rule2)} {
				for _, m := range *found {
					t.Errorf("cdk-nag finding at %s: %v", *m.Id, m.Entry.Data)
				}
			}
		})
	}
	t.Run("a requester that is not a principal ARN fails synth", func(t *testing.T) {
		_, err := PropsFromContext(func(key *string) any {
			if *key == contextStopRequesters {
				return "ops-role,arn:aws:iam::123456789012:role/ok"
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), `"ops-role"`) || strings.Contains(err.Error(), "role/ok") {
			t.Fatalf("err = %v, want ops-role named and the valid ARN not", err)
		}
	})
}

func keys[V any](m map[string]V) []string { return sortedKeys(m) }
