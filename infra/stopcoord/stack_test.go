package stopcoord

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/stopcoord/stopcoord/shared/ledger"
)

// synthesize builds the app the way `cdk synth` does, with the context from
// the repository's cdk.json and the props main derives from it, adds the
// cdk-nag AwsSolutions checks, and synthesizes into a temporary directory.
func synthesize(t *testing.T, extra ...map[string]any) awscdk.Stack {
	t.Helper()
	ctx := cdkJSONContext(t)
	for _, m := range extra {
		for k, v := range m {
			(*ctx)[k] = v
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(t.TempDir()),
		Context: ctx,
	})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	props, err := PropsFromContext(app.Node().TryGetContext)
	if err != nil {
		t.Fatalf("stack props from cdk.json context: %v", err)
	}
	props.AssetDir = placeholderAssets(t)
	stack := NewStopCoordStack(app, "StopCoord", props)
	app.Synth(nil)
	return stack
}

// cdkJSONContext reads the context block of ../cdk.json, so feature flags
// and stopcoord settings under test are the ones `cdk synth` uses.
func cdkJSONContext(t *testing.T) *map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../../cdk.json")
	if err != nil {
		t.Fatalf("read cdk.json: %v", err)
	}
	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("decode cdk.json: %v", err)
	}
	return &file.Context
}

func TestStopCoordStack(t *testing.T) {
	stack := synthesize(t)
	template := assertions.Template_FromStack(stack, nil)

	t.Run("no unsuppressed AwsSolutions findings", func(t *testing.T) {
		annotations := assertions.Annotations_FromStack(stack)
		rule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		findings := []struct {
			level string
			found *[]*cxapi.SynthesisMessage
		}{
			{"error", annotations.FindError(jsii.String("*"), rule)},
			{"warning", annotations.FindWarning(jsii.String("*"), rule)},
		}
		for _, f := range findings {
			for _, m := range *f.found {
				t.Errorf("cdk-nag %s at %s: %v", f.level, *m.Id, m.Entry.Data)
			}
		}
	})

	t.Run("ledger table matches shared/ledger", func(t *testing.T) {
		// cdk-nag 2.38.2 has no rules for AWS::DynamoDB::GlobalTable
		// (TableV2), so switching to it would silently skip the checks above.
		if n := len(resourcesOfType(t, template, "AWS::DynamoDB::GlobalTable")); n != 0 {
			t.Errorf("got %d AWS::DynamoDB::GlobalTable, want 0: cdk-nag cannot check them", n)
		}
		tables := resourcesOfType(t, template, "AWS::DynamoDB::Table")
		if len(tables) != 1 {
			t.Fatalf("got %d AWS::DynamoDB::Table, want 1", len(tables))
		}
		var table cfnTable
		for _, resource := range tables {
			table = resource
		}

		got, want := table.Properties.schema(), schemaOf(ledger.TableDefinition("any"))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("table schema differs from ledger.TableDefinition\n got: %+v\nwant: %+v", got, want)
		}
		p := table.Properties
		if !p.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled {
			t.Error("point-in-time recovery is off, want on")
		}
		if !p.SSESpecification.SSEEnabled {
			t.Error("SSESpecification.SSEEnabled is false, want the AWS managed key")
		}
		if ttl := p.TimeToLiveSpecification; !ttl.Enabled || ttl.AttributeName != ledger.TTLAttribute {
			t.Errorf("TTL = %+v, want enabled on %q", ttl, ledger.TTLAttribute)
		}
		if !p.DeletionProtectionEnabled {
			t.Error("DeletionProtectionEnabled is false, want true as cdk.json sets it")
		}
		if table.DeletionPolicy != "Retain" || table.UpdateReplacePolicy != "Retain" {
			t.Errorf("DeletionPolicy/UpdateReplacePolicy = %q/%q, want Retain/Retain", table.DeletionPolicy, table.UpdateReplacePolicy)
		}
	})

	t.Run("outputs the ledger table name", func(t *testing.T) {
		var tableIDs []string
		for id := range resourcesOfType(t, template, "AWS::DynamoDB::Table") {
			tableIDs = append(tableIDs, id)
		}
		if len(tableIDs) != 1 {
			t.Fatalf("got tables %v, want exactly one", tableIDs)
		}
		outputs := *template.FindOutputs(jsii.String("LedgerTableName"), nil)
		output, ok := outputs["LedgerTableName"]
		if !ok {
			t.Fatalf("no LedgerTableName output; outputs: %v", outputs)
		}
		got, want := (*output)["Value"], map[string]any{"Ref": tableIDs[0]}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("LedgerTableName value = %v, want %v", got, want)
		}
	})
}

func TestLedgerDeletionProtectionFollowsProps(t *testing.T) {
	tests := []struct {
		name    string
		protect bool
	}{
		{name: "protected", protect: true},
		{name: "unprotected", protect: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
			stack := NewStopCoordStack(app, "StopCoord", &StopCoordStackProps{LedgerDeletionProtection: tt.protect, AssetDir: placeholderAssets(t)})
			template := assertions.Template_FromStack(stack, nil)
			tables := resourcesOfType(t, template, "AWS::DynamoDB::Table")
			if len(tables) != 1 {
				t.Fatalf("got %d AWS::DynamoDB::Table, want 1", len(tables))
			}
			for _, table := range tables {
				if got := table.Properties.DeletionProtectionEnabled; got != tt.protect {
					t.Errorf("DeletionProtectionEnabled = %v, want %v", got, tt.protect)
				}
			}
		})
	}
}

// cfnTable is the part of an AWS::DynamoDB::Table resource the tests read.
type cfnTable struct {
	DeletionPolicy      string
	UpdateReplacePolicy string
	Properties          cfnTableProperties
}

type cfnTableProperties struct {
	BillingMode            string
	KeySchema              []keyElement
	AttributeDefinitions   []attributeDefinition
	GlobalSecondaryIndexes []struct {
		IndexName  string
		KeySchema  []keyElement
		Projection struct{ ProjectionType string }
	}
	PointInTimeRecoverySpecification struct{ PointInTimeRecoveryEnabled bool }
	SSESpecification                 struct{ SSEEnabled bool }
	TimeToLiveSpecification          struct {
		AttributeName string
		Enabled       bool
	}
	DeletionProtectionEnabled bool
}

type keyElement struct{ AttributeName, KeyType string }

type attributeDefinition struct{ AttributeName, AttributeType string }

type index struct {
	Name           string
	KeySchema      []keyElement
	ProjectionType string
}

// tableSchema is what the template and ledger.TableDefinition must agree
// on. Attributes and indexes are sorted by name, as their order means nothing.
type tableSchema struct {
	BillingMode string
	KeySchema   []keyElement
	Attributes  []attributeDefinition
	Indexes     []index
}

func (p cfnTableProperties) schema() tableSchema {
	s := tableSchema{BillingMode: p.BillingMode, KeySchema: p.KeySchema, Attributes: p.AttributeDefinitions}
	for _, gsi := range p.GlobalSecondaryIndexes {
		s.Indexes = append(s.Indexes, index{Name: gsi.IndexName, KeySchema: gsi.KeySchema, ProjectionType: gsi.Projection.ProjectionType})
	}
	return s.sorted()
}

// schemaOf reads the same schema from the CreateTable input that the ledger's
// tests and the local stack use. The SDK's enum strings (HASH, S, ALL,
// PAY_PER_REQUEST) are CloudFormation's too.
func schemaOf(in *dynamodb.CreateTableInput) tableSchema {
	keys := func(elements []types.KeySchemaElement) []keyElement {
		var out []keyElement
		for _, e := range elements {
			out = append(out, keyElement{AttributeName: *e.AttributeName, KeyType: string(e.KeyType)})
		}
		return out
	}
	s := tableSchema{BillingMode: string(in.BillingMode), KeySchema: keys(in.KeySchema)}
	for _, a := range in.AttributeDefinitions {
		s.Attributes = append(s.Attributes, attributeDefinition{AttributeName: *a.AttributeName, AttributeType: string(a.AttributeType)})
	}
	for _, gsi := range in.GlobalSecondaryIndexes {
		s.Indexes = append(s.Indexes, index{Name: *gsi.IndexName, KeySchema: keys(gsi.KeySchema), ProjectionType: string(gsi.Projection.ProjectionType)})
	}
	return s.sorted()
}

func (s tableSchema) sorted() tableSchema {
	slices.SortFunc(s.Attributes, func(a, b attributeDefinition) int { return strings.Compare(a.AttributeName, b.AttributeName) })
	slices.SortFunc(s.Indexes, func(a, b index) int { return strings.Compare(a.Name, b.Name) })
	return s
}

// resourcesOfType decodes the template's resources of one type, by logical ID.
func resourcesOfType(t *testing.T, template assertions.Template, resourceType string) map[string]cfnTable {
	t.Helper()
	raw, err := json.Marshal(template.FindResources(jsii.String(resourceType), nil))
	if err != nil {
		t.Fatalf("encode %s resources: %v", resourceType, err)
	}
	var resources map[string]cfnTable
	if err := json.Unmarshal(raw, &resources); err != nil {
		t.Fatalf("decode %s resources: %v", resourceType, err)
	}
	return resources
}

// placeholderAssets stands in for dist/: a bootstrap file per function, so
// the tests need no cross-build.
func placeholderAssets(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, fn := range functionNames(t) {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("placeholder"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// functionNames lists the folders under functions/, as the Makefile does.
func functionNames(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("../../functions")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}
