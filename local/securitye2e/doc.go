// Package securitye2e holds the end-to-end tests of stopcoord's security
// model (issue 12): each case of the issue is pushed through the local
// stack synthesized from ./infra (the built bootstraps under
// aws-lambda-rie, DynamoDB Local, moto and the SageMaker emulator), the
// way a caller, a callback-queue sender or an event sender would meet the
// deployed stack. The package has no code of its own: `go test` is its use.
package securitye2e
