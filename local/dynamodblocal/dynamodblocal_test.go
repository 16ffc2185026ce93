package dynamodblocal_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/stopcoord/stopcoord/local/dynamodblocal"
)

func TestMain(m *testing.M) { os.Exit(dynamodblocal.RunTests(m)) }

// TestEachTestGetsItsOwnTableAndLosesItAtTheEnd: table names carry the
// process id, so binaries sharing one server never collide, and the table
// is gone once the test that made it has ended.
func TestEachTestGetsItsOwnTableAndLosesItAtTheEnd(t *testing.T) {
	ctx := context.Background()
	var client *dynamodb.Client
	var names []string
	for range 2 {
		t.Run("test", func(t *testing.T) {
			c, table := dynamodblocal.ClientT(t)
			client = c
			names = append(names, table)
			_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
				TableName:            aws.String(table),
				BillingMode:          types.BillingModePayPerRequest,
				KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
				AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	if names[0] == names[1] || !strings.Contains(names[0], "-"+strconv.Itoa(os.Getpid())+"-") {
		t.Fatalf("table names %v: want two different names with the process id", names)
	}
	for _, name := range names {
		_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		var missing *types.ResourceNotFoundException
		if !errors.As(err, &missing) {
			t.Errorf("table %s after its test: %v, want ResourceNotFoundException", name, err)
		}
	}
}

// TestExistingIsNotStoppedByItsUser: a server named by the endpoint belongs
// to whoever started it.
func TestExistingIsNotStoppedByItsUser(t *testing.T) {
	srv := dynamodblocal.SharedT(t)
	ctx := context.Background()
	other, err := dynamodblocal.Existing(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	other.Stop()
	if _, err := dynamodblocal.Existing(ctx, srv.URL); err != nil {
		t.Fatalf("the server stopped when a user of it did: %v", err)
	}
	if _, err := dynamodblocal.Existing(ctx, "http://127.0.0.1:1"); err == nil || !strings.Contains(err.Error(), dynamodblocal.EndpointEnv) {
		t.Fatalf("Existing on a closed port: %v, want an error that names %s", err, dynamodblocal.EndpointEnv)
	}
}
