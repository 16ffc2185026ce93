package eventrelay_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/local/eventrelay"
	"github.com/stopcoord/stopcoord/local/localaws"
	"github.com/stopcoord/stopcoord/local/moto"
)

type stack struct {
	ctx context.Context
	sqs *sqs.Client
	eb  *eventbridge.Client
}

// rule creates a queue and a default-bus rule with the pattern targeting it.
func (s stack) rule(t *testing.T, name, pattern string) string {
	t.Helper()
	q, err := s.sqs.CreateQueue(s.ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"VisibilityTimeout": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := s.sqs.GetQueueAttributes(s.ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"QueueArn"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.eb.PutRule(s.ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.eb.PutTargets(s.ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), Targets: []ebtypes.Target{{Id: aws.String("relay"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.eb.RemoveTargets(s.ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), Ids: []string{"relay"}})
		s.eb.DeleteRule(s.ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name)})
	})
	return aws.ToString(q.QueueUrl)
}

func (s stack) put(t *testing.T, source, detailType, detail string) {
	t.Helper()
	out, err := s.eb.PutEvents(s.ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{Source: aws.String(source), DetailType: aws.String(detailType), Detail: aws.String(detail)}}})
	if err != nil || out.FailedEntryCount != 0 {
		t.Fatalf("put event: %v %+v", err, out)
	}
}

// recorder is an in-process function that records each event and fails
// the ones its fail function picks.
type recorder struct {
	mu     sync.Mutex
	events []events.EventBridgeEvent
	fail   func(events.EventBridgeEvent) bool
}

func (r *recorder) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	if r.fail != nil && r.fail(ev) {
		return nil, context.DeadlineExceeded
	}
	return []byte("null"), nil
}

func TestRelayDeliversOneEventPerInvocation(t *testing.T) {
	srv := moto.StartT(t)
	cfg, err := localaws.Config(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s := stack{ctx: context.Background(),
		sqs: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(srv.URL) }),
		eb:  eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) { o.BaseEndpoint = aws.String(srv.URL) })}

	t.Run("envelopes with the account, failures redelivered", func(t *testing.T) {
		queue := s.rule(t, "status", `{"source":["aws.sagemaker"],"detail":{"pipelineArn":["arn:aws:sagemaker:us-east-1:123456789012:pipeline/p1"]}}`)
		failedOnce := false
		fn := &recorder{fail: func(ev events.EventBridgeEvent) bool {
			if strings.Contains(string(ev.Detail), `"n":2`) && !failedOnce {
				failedOnce = true
				return true
			}
			return false
		}}
		relay, err := eventrelay.New(s.sqs, eventrelay.Config{QueueURL: queue}, fn, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{`{"n":1,"pipelineArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p1"}`, `{"n":2,"pipelineArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/p1"}`, `{"n":3,"pipelineArn":"arn:aws:sagemaker:us-east-1:123456789012:pipeline/other"}`} {
			s.put(t, "aws.sagemaker", "Step Status Change", d)
		}
		deadline := time.Now().Add(10 * time.Second)
		deleted := 0
		for deleted < 2 && time.Now().Before(deadline) {
			st, err := relay.PollOnce(s.ctx)
			if err != nil {
				t.Fatal(err)
			}
			deleted += st.Deleted
		}
		if deleted != 2 || len(fn.events) != 3 {
			t.Fatalf("deleted %d after %d invocations, want 2 events delivered, one of them twice", deleted, len(fn.events))
		}
		for _, ev := range fn.events {
			if ev.AccountID != eventrelay.DefaultAccount || ev.Source != "aws.sagemaker" || ev.ID == "" || ev.Time.IsZero() || strings.Contains(string(ev.Detail), `"n":3`) {
				t.Fatalf("event %+v: want the envelope with the account, and only the rule's pipeline", ev)
			}
		}
	})

	t.Run("constant input keeps the event id and time", func(t *testing.T) {
		queue := s.rule(t, "schedule", `{"source":["test.schedule"]}`)
		fn := &recorder{}
		input := `{"version":"0","id":"","detail-type":"Stop Requested","source":"stopcoord","time":"","region":"us-east-1","resources":[],"detail":{"pipelineName":"dev-train","reason":"nightly"}}`
		relay, err := eventrelay.New(s.sqs, eventrelay.Config{QueueURL: queue, Input: json.RawMessage(input)}, fn, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.put(t, "test.schedule", "Scheduled Event", `{}`)
		if st, err := relay.PollOnce(s.ctx); err != nil || st.Deleted != 1 {
			t.Fatalf("poll: %+v %v", st, err)
		}
		ev := fn.events[0]
		if ev.DetailType != "Stop Requested" || ev.Source != "stopcoord" || ev.ID == "" || ev.Time.IsZero() || !strings.Contains(string(ev.Detail), "dev-train") {
			t.Fatalf("event %+v, want the constant input with the schedule's id and time", ev)
		}
	})

	t.Run("bad configuration lists every problem", func(t *testing.T) {
		_, err := eventrelay.New(nil, eventrelay.Config{WaitTime: 500 * time.Millisecond, Input: json.RawMessage(`[]`)}, nil, nil)
		for _, want := range []string{"no SQS client", "no function", "QueueURL", "WaitTime", "Input"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("New error %v lacks %q", err, want)
			}
		}
	})
}
