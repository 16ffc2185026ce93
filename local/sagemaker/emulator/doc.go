// Package emulator is a local stand-in for the SageMaker Pipelines API that
// models what stopcoord exists for: the stop semantics of callback, Lambda and
// job steps. Import it as github.com/stopcoord/stopcoord/local/sagemaker/emulator;
// it imports nothing of stopcoord's own (shared/, functions/, infra/), so it
// could be a module of its own.
//
// It speaks AWS JSON 1.1 (POST /, X-Amz-Target: SageMaker.<Operation>), so the
// unmodified aws-sdk-go-v2 sagemaker client talks to it through BaseEndpoint
// or AWS_ENDPOINT_URL_SAGEMAKER. It serves all 18 Pipelines operations of the
// service model, and checks every request member against the model's
// constraints (servicemodel.json, generated from botocore). It runs real
// pipeline definition documents: callback steps send their messages through
// the real SQS API (moto locally), Lambda steps call an HTTP endpoint
// (aws-lambda-rie or a plain handler), job steps are simulated, and every
// status change is published to EventBridge.
//
// Behaviour the AWS documentation leaves open is a switch in Options; see
// local/sagemaker/README.md (one folder up) for the list and the defaults.
package emulator
