package stopcoord

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Routes is every route of the stop API, as "METHOD /path". The function
// switches on the same route keys (functions/stop-api/handler.go).
var Routes = []string{
	"POST /stops",
	"POST /pipelines/{name}/stops",
	"GET /stops/{id}",
	"GET /stops",
	"GET /executions/{executionArn}",
	"PUT /callbacks/{token}/resources",
	"GET /pipelines/{name}/executions/{id}",
	"POST /pipelines/{name}/executions/{id}/stops",
}

// StopAPIProps configures the HTTP API.
type StopAPIProps struct {
	Handler      awslambda.IFunction
	LogRetention awslogs.RetentionDays
	// Steady-state requests per second and burst for every route: stops
	// are rare, so a low limit protects SageMaker and the ledger from a
	// runaway client.
	RateLimit, BurstLimit float64
}

// StopAPI is the HTTP API in front of the stop-api function.
type StopAPI struct {
	constructs.Construct
	API awsapigatewayv2.HttpApi
}

// NewStopAPI builds an HTTP API (payload format 2.0) whose every route
// requires SigV4 (IAM authorisation), with access logs and throttling.
func NewStopAPI(scope constructs.Construct, id string, props *StopAPIProps) *StopAPI {
	c := constructs.NewConstruct(scope, &id)
	api := awsapigatewayv2.NewHttpApi(c, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("stopcoord: stop SageMaker pipeline executions and see what a stop waits for"),
		DefaultAuthorizer:  awsapigatewayv2authorizers.NewHttpIamAuthorizer(),
		CreateDefaultStage: jsii.Bool(false),
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("StopAPI"), props.Handler, &awsapigatewayv2integrations.HttpLambdaIntegrationProps{
		PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
	})
	for _, route := range Routes {
		method, path := splitRoute(route)
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(path),
			Methods:     &[]awsapigatewayv2.HttpMethod{method},
			Integration: integration,
		})
	}
	accessLogs := awslogs.NewLogGroup(c, jsii.String("AccessLogs"), &awslogs.LogGroupProps{
		Retention:     props.LogRetention,
		RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := awsapigatewayv2.NewHttpStage(c, jsii.String("Stage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(props.RateLimit),
			BurstLimit: jsii.Number(props.BurstLimit),
		},
	})
	// The L2 stage has no access-log property yet; set it on the L1.
	cfn := stage.Node().DefaultChild().(awsapigatewayv2.CfnStage)
	cfn.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: accessLogs.LogGroupArn(),
		Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","caller":"$context.identity.userArn",` +
			`"requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status",` +
			`"responseLength":"$context.responseLength","integrationError":"$context.integrationErrorMessage"}`),
	})
	return &StopAPI{Construct: c, API: api}
}

func splitRoute(route string) (awsapigatewayv2.HttpMethod, string) {
	for i := 0; i < len(route); i++ {
		if route[i] == ' ' {
			return awsapigatewayv2.HttpMethod(route[:i]), route[i+1:]
		}
	}
	return awsapigatewayv2.HttpMethod_ANY, route
}
