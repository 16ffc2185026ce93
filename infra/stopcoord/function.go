package stopcoord

import (
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// FunctionTag names the tag that carries a function's folder name.
const FunctionTag = "stopcoord:function"

// GoFunctionProps configures one of stopcoord's Go functions.
type GoFunctionProps struct {
	// Name is the folder under functions/ and under AssetDir.
	Name string
	// AssetDir holds <Name>/bootstrap, built by `make build` (linux/arm64),
	// so what the tests ran under aws-lambda-rie is what is deployed.
	AssetDir    string
	Description string
	Timeout     awscdk.Duration
	MemoryMiB   float64
	Environment map[string]string
	// ReservedConcurrency caps parallel instances; 0 leaves it unset.
	ReservedConcurrency float64
	LogRetention        awslogs.RetentionDays
}

// GoFunction is a function and its log group.
type GoFunction struct {
	constructs.Construct
	Function awslambda.Function
	LogGroup awslogs.LogGroup
}

// NewGoFunction builds a provided.al2023 arm64 function from its bootstrap,
// with JSON logs into its own log group and X-Ray tracing.
func NewGoFunction(scope constructs.Construct, id string, props *GoFunctionProps) *GoFunction {
	c := constructs.NewConstruct(scope, &id)
	logs := awslogs.NewLogGroup(c, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	// An explicit role with only what the function needs: writing to its
	// own log group (the managed basic-execution policy would allow every
	// log group), plus what the stack grants it.
	role := awsiam.NewRole(c, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("stopcoord " + props.Name + " function"),
	})
	logs.GrantWrite(role)
	env := map[string]*string{}
	for k, v := range props.Environment {
		env[k] = jsii.String(v)
	}
	fnProps := &awslambda.FunctionProps{
		Description:  jsii.String(props.Description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetDir, props.Name)), nil),
		Timeout:      props.Timeout,
		MemorySize:   jsii.Number(props.MemoryMiB),
		Environment:  &env,
		// The functions log JSON themselves; Lambda's JSON format keeps its
		// own START/REPORT lines in the same shape, and lets the log level
		// be set without a deploy of code.
		// The EMF metric lines have no level, which Lambda reads as INFO:
		// an application log level above INFO would drop every metric.
		LoggingFormat:         awslambda.LoggingFormat_JSON,
		ApplicationLogLevelV2: awslambda.ApplicationLogLevel_INFO,
		SystemLogLevelV2:      awslambda.SystemLogLevel_WARN,
		LogGroup:              logs,
		Tracing:               awslambda.Tracing_ACTIVE,
		Role:                  role,
	}
	if props.ReservedConcurrency > 0 {
		fnProps.ReservedConcurrentExecutions = jsii.Number(props.ReservedConcurrency)
	}
	fn := awslambda.NewFunction(c, jsii.String("Function"), fnProps)
	// The local stack finds each function's host-architecture bootstrap
	// (.local/bin/<name>) by this tag in the synthesized template.
	awscdk.Tags_Of(fn).Add(jsii.String(FunctionTag), jsii.String(props.Name), nil)
	return &GoFunction{Construct: c, Function: fn, LogGroup: logs}
}
