package stack

import (
	"testing"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/local/procs"
	"github.com/stopcoord/stopcoord/local/rie"
)

// RequireTools skips the test (fails it in CI) unless the local stack's
// stand-ins are installed: moto_server, aws-lambda-rie and DynamoDB Local.
func RequireTools(t testing.TB) {
	t.Helper()
	procs.RequireTool(t, "moto_server", moto.InstallHint)
	if _, err := rie.Find(); err != nil {
		procs.Missing(t, err.Error())
	}
	if _, err := dynamodblocal.FindJar(); err != nil {
		procs.Missing(t, err.Error())
	}
}
