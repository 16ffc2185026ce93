package stopevents_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	samples "github.com/stopcoord/stopcoord/events"
	"github.com/stopcoord/stopcoord/local/moto"
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/stopevents"
)

// sample reads events/eventbridge/stop-completed.json, strictly.
func sample(t *testing.T) (lambdaevents.EventBridgeEvent, stopevents.StopCompleted) {
	t.Helper()
	raw, err := samples.FS.ReadFile("eventbridge/stop-completed.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev lambdaevents.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	var d stopevents.StopCompleted
	dec := json.NewDecoder(bytes.NewReader(ev.Detail))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("the sample's detail does not decode strictly into StopCompleted: %v", err)
	}
	return ev, d
}

func TestSampleIsAStopCompletedEvent(t *testing.T) {
	ev, d := sample(t)
	if ev.Source != stopevents.Source || ev.DetailType != stopevents.DetailTypeStopCompleted {
		t.Errorf("sample source %q detail-type %q, want %q %q", ev.Source, ev.DetailType, stopevents.Source, stopevents.DetailTypeStopCompleted)
	}
	if len(ev.Resources) != 1 || ev.Resources[0] != d.ExecutionARN {
		t.Errorf("sample resources %v, want the execution %s", ev.Resources, d.ExecutionARN)
	}
	if got := d.ClosedAt.Sub(d.RequestedAt).Milliseconds(); got != d.LatencyMillis {
		t.Errorf("sample latency %d ms, but closedAt - requestedAt = %d ms", d.LatencyMillis, got)
	}
	// The sample's detail is exactly what Entry encodes for it.
	e, err := stopevents.Entry(d)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal(ev.Detail, &want)
	_ = json.Unmarshal([]byte(aws.ToString(e.Detail)), &got)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Entry detail differs from the sample\n got: %s\nwant: %s", aws.ToString(e.Detail), ev.Detail)
	}
	if strings.Contains(strings.ToLower(string(ev.Detail)), "token") {
		t.Error("the Stop Completed detail mentions a token; tokens are never shown")
	}
}

func TestEntryBoundsCleanups(t *testing.T) {
	_, d := sample(t)
	d.Cleanups = make([]stopevents.CleanupResult, stopevents.MaxCleanups+5)
	for i := range d.Cleanups {
		d.Cleanups[i] = stopevents.CleanupResult{Kind: "lambda", ResourceID: strings.Repeat("f", 2048), Result: "succeeded", Attempts: 1}
	}
	e, err := stopevents.Entry(d)
	if err != nil {
		t.Fatal(err)
	}
	var back stopevents.StopCompleted
	if err := json.Unmarshal([]byte(*e.Detail), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Cleanups) != stopevents.MaxCleanups || !back.CleanupsTruncated {
		t.Errorf("got %d cleanups truncated=%v, want %d and true", len(back.Cleanups), back.CleanupsTruncated, stopevents.MaxCleanups)
	}
	// EventBridge counts the whole entry against 256 KB.
	if size := len(*e.Detail) + len(*e.Source) + len(*e.DetailType) + len(e.Resources[0]); size > 256*1024 {
		t.Errorf("entry of %d bytes at the cap exceeds EventBridge's 256 KB", size)
	}

	d.Cleanups = nil
	e, _ = stopevents.Entry(d)
	if !strings.Contains(*e.Detail, `"cleanups":[]`) {
		t.Errorf("no cleanups encodes as %s, want an empty list", *e.Detail)
	}
}

// putEvents is a function-field fake of EventBridge.
type putEvents func(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)

func (f putEvents) PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, opts ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	return f(ctx, in, opts...)
}

func TestRefusedEntryIsAnError(t *testing.T) {
	_, d := sample(t)
	tests := []struct {
		name    string
		out     *eventbridge.PutEventsOutput
		err     error
		wantErr string
	}{
		{"call fails", nil, errors.New("connection reset"), "connection reset"},
		{"entry refused", &eventbridge.PutEventsOutput{FailedEntryCount: 1, Entries: []ebtypes.PutEventsResultEntry{{ErrorCode: aws.String("InternalFailure"), ErrorMessage: aws.String("try again")}}}, nil, "entry refused: InternalFailure try again"},
		{"accepted", &eventbridge.PutEventsOutput{Entries: []ebtypes.PutEventsResultEntry{{EventId: aws.String("e1")}}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := stopevents.NewPublisher(putEvents(func(context.Context, *eventbridge.PutEventsInput, ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
				return tt.out, tt.err
			}))
			err := p.StopCompleted(context.Background(), d)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), d.StopID)):
				t.Fatalf("err = %v, want one naming the stop and containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestPublishThroughARule publishes to moto's EventBridge and receives the
// event through a rule with the pattern a team would write, on an SQS
// target: what arrives is the sample's detail.
func TestPublishThroughARule(t *testing.T) {
	srv := moto.StartT(t)
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	eb := eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	q := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) })

	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("stop-completed")})
	if err != nil {
		t.Fatal(err)
	}
	pattern, _ := json.Marshal(map[string]any{"source": []string{stopevents.Source}, "detail-type": []string{stopevents.DetailTypeStopCompleted}})
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("to-chat"), EventPattern: aws.String(string(pattern))}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("to-chat"), Targets: []ebtypes.Target{{
		Id: aws.String("q"), Arn: aws.String("arn:aws:sqs:us-east-1:" + moto.AccountID + ":stop-completed"),
	}}}); err != nil {
		t.Fatal(err)
	}

	ev, d := sample(t)
	if err := stopevents.NewPublisher(eb).StopCompleted(ctx, d); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			continue
		}
		var got lambdaevents.EventBridgeEvent
		if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &got); err != nil {
			t.Fatal(err)
		}
		var gotDetail, wantDetail any
		_ = json.Unmarshal(got.Detail, &gotDetail)
		_ = json.Unmarshal(ev.Detail, &wantDetail)
		if got.Source != ev.Source || got.DetailType != ev.DetailType || !reflect.DeepEqual(gotDetail, wantDetail) || !reflect.DeepEqual(got.Resources, ev.Resources) {
			t.Fatalf("received %s\nwant the sample's source, detail-type, resources and detail", aws.ToString(out.Messages[0].Body))
		}
		return
	}
	t.Fatal("no Stop Completed event reached the rule's queue within 30 s")
}

// TestFromViewBuildsTheSample: the ledger's records of the sample's stop
// give exactly the sample's detail.
func TestFromViewBuildsTheSample(t *testing.T) {
	_, want := sample(t)
	stop := pipeline.StopRequest{
		ID: want.StopID, ExecutionARN: want.ExecutionARN, Mode: pipeline.StopGraceful, Reason: want.Reason,
		RequestedBy: want.RequestedBy, Phase: pipeline.StopClosed, CreatedAt: want.RequestedAt, ClosedAt: want.ClosedAt,
		Outcome: pipeline.ExecutionStatus(want.Outcome), LatencyMillis: want.LatencyMillis,
	}
	other := "arn:aws:sagemaker:us-east-1:123456789012:pipeline/dev-train/execution/other"
	view := pipeline.View{
		Tokens: []pipeline.Token{
			{ExecutionARN: want.ExecutionARN, Token: "AAAAAAAAAA", StepName: "Preprocess"},
			{ExecutionARN: want.ExecutionARN, Token: "BBBBBBBBBB", StepName: "Train", Attention: true},
		},
		Cleanups: []pipeline.Cleanup{
			{ExecutionARN: want.ExecutionARN, Token: "AAAAAAAAAA", Resource: pipeline.Resource{Kind: "glue", ID: "nightly-etl/jr_4f1e2d3c"}, Attempts: 1, Status: pipeline.CleanupSucceeded},
			{ExecutionARN: want.ExecutionARN, Token: "BBBBBBBBBB", Resource: pipeline.Resource{Kind: "sfn", ID: "arn:aws:states:us-east-1:123456789012:execution:train-worker:run-17"},
				Attempts: 3, Status: pipeline.CleanupFailed, LastError: "StopExecution: AccessDeniedException: not authorized"},
			{ExecutionARN: other, Token: "CCCCCCCCCC", Resource: pipeline.Resource{Kind: "glue", ID: "x"}, Status: pipeline.CleanupSucceeded},
		},
	}
	got := stopevents.FromView(want.Deployment, want.Trigger, stop, view)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FromView\n got %+v\nwant %+v", got, want)
	}
}
