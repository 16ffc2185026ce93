package gluestandin_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/stopcoord/stopcoord/local/gluestandin"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
)

func TestStopsARunThatMotoStarted(t *testing.T) {
	ctx := context.Background()
	m := moto.StartT(t)
	g, err := gluestandin.Start(m.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	cfg, err := localaws.Config(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := glue.NewFromConfig(cfg, func(o *glue.Options) { o.BaseEndpoint = aws.String(g.URL) })
	if _, err := client.CreateJob(ctx, &glue.CreateJobInput{Name: aws.String("etl"), Role: aws.String("arn:aws:iam::123456789012:role/r"),
		Command: &gluetypes.JobCommand{Name: aws.String("glueetl"), ScriptLocation: aws.String("s3://b/s.py")}}); err != nil {
		t.Fatal(err)
	}
	run, err := client.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("etl")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := client.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("etl")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.BatchStopJobRun(ctx, &glue.BatchStopJobRunInput{JobName: aws.String("etl"), JobRunIds: []string{*run.JobRunId}})
	if err != nil || len(out.SuccessfulSubmissions) != 1 {
		t.Fatalf("BatchStopJobRun: %+v, %v", out, err)
	}
	got, err := client.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("etl"), RunId: run.JobRunId})
	if err != nil || got.JobRun.JobRunState != gluetypes.JobRunStateStopped {
		t.Fatalf("stopped run: %+v, %v", got, err)
	}
	untouched, err := client.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("etl"), RunId: other.JobRunId})
	if err != nil || untouched.JobRun.JobRunState == gluetypes.JobRunStateStopped {
		t.Fatalf("the other run: %+v, %v", untouched, err)
	}
	if s := g.Stops(); len(s) != 1 || s[0].JobRunIDs[0] != *run.JobRunId || s[0].At.IsZero() {
		t.Fatalf("stops %+v", s)
	}
}
