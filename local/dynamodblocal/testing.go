package dynamodblocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/local/procs"
)

// EndpointEnv names the variable that points the tests at a DynamoDB Local
// that is already running. `make test` starts one for the whole run
// (local/cmd/dynamodb-local) and sets it, so every test binary shares one
// JVM instead of each starting its own at the same moment. Without it, a
// test binary starts its own on first use.
const EndpointEnv = "STOPCOORD_DYNAMODB_ENDPOINT"

// The server of this test binary: the one EndpointEnv names, or one
// started on first use. Tests share it and isolate themselves with a fresh
// table each.
var shared struct {
	once   sync.Once
	server *Server
	err    error
}

var tableSeq atomic.Int64

// SharedT returns the DynamoDB Local the tests use: the one EndpointEnv
// names, or this binary's own, started on first use. It skips the test when
// Java or the jar is missing, and fails it when CI=true. Call RunTests from
// TestMain so a server this binary started is stopped at the end.
func SharedT(t testing.TB) *Server {
	t.Helper()
	if url := os.Getenv(EndpointEnv); url != "" {
		shared.once.Do(func() { shared.server, shared.err = Existing(context.Background(), url) })
	} else {
		javaPath, jarPath, err := Tools()
		if err != nil {
			procs.Missing(t, err.Error())
		}
		shared.once.Do(func() {
			shared.server, shared.err = Start(context.Background(), javaPath, jarPath)
		})
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.server
}

// ClientT returns a client of the shared server and a table name that no
// other test uses, in this binary or any other sharing the server. The
// table, once the test creates it, is deleted when the test ends, so a
// server shared by a whole run does not fill up.
func ClientT(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	s := SharedT(t)
	c, err := s.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	table := fmt.Sprintf("stopcoord-test-%d-%d", os.Getpid(), tableSeq.Add(1))
	t.Cleanup(func() {
		_, err := c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
		var missing *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &missing) {
			t.Logf("delete table %s: %v", table, err)
		}
	})
	return c, table
}

// RunTests runs the tests and then stops the shared server if this binary
// started one:
//
//	func TestMain(m *testing.M) { os.Exit(dynamodblocal.RunTests(m)) }
func RunTests(m interface{ Run() int }) int {
	code := m.Run()
	if shared.server != nil {
		shared.server.Stop()
	}
	return code
}
