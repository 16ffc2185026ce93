package dynamodblocal

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stopcoord/stopcoord/local/procs"
)

// One DynamoDB Local per test binary: the JVM takes over a second to start,
// so tests share it and isolate themselves with a fresh table each.
var shared struct {
	once   sync.Once
	server *Server
	err    error
}

var tableSeq atomic.Int64

// SharedT returns the test binary's DynamoDB Local, starting it on first
// use. It skips the test when Java or the jar is missing, and fails it when
// CI=true. Call RunTests from TestMain so the server is stopped at the end.
func SharedT(t testing.TB) *Server {
	t.Helper()
	javaPath, jarPath, err := Tools()
	if err != nil {
		procs.Missing(t, err.Error())
	}
	shared.once.Do(func() {
		shared.server, shared.err = Start(context.Background(), javaPath, jarPath)
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.server
}

// ClientT returns a client of the shared server and a table name no other
// test in this binary uses.
func ClientT(t testing.TB) (*dynamodb.Client, string) {
	t.Helper()
	s := SharedT(t)
	c, err := s.Client(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c, fmt.Sprintf("stopcoord-test-%d", tableSeq.Add(1))
}

// RunTests runs the tests and then stops the shared server if one started:
//
//	func TestMain(m *testing.M) { os.Exit(dynamodblocal.RunTests(m)) }
func RunTests(m interface{ Run() int }) int {
	code := m.Run()
	if shared.server != nil {
		shared.server.Stop()
	}
	return code
}
