package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/eventrelay"
)

// startRules wires each AWS::Events::Rule. A rule with an event pattern
// becomes the same rule on moto, on its bus (the default bus, or one the
// template declares: the Stop Requested bus), with an SQS queue as its
// target (moto cannot call Lambda), and a relay that hands each event to
// the rule's function, one invocation per event, as EventBridge does. A
// scheduled rule becomes a timer that invokes its function with a
// scheduled event, or with the target's constant input.
func (s *Stack) startRules(ctx context.Context, run context.Context, cfg Config) error {
	eb := s.eventsClient()
	for _, id := range s.template.OfType("AWS::Events::Rule") {
		props := s.template.Resources[id].Properties
		if state, _ := props["State"].(string); state == "DISABLED" {
			continue
		}
		targets, _ := props["Targets"].([]any)
		for _, t := range targets {
			target, _ := t.(map[string]any)
			fnName := s.functionOf(target["Arn"])
			fn := s.Functions[fnName]
			if fn == nil {
				s.log.Warn("rule target is not a local function; skipped", "rule", id)
				continue
			}
			input, _ := target["Input"].(string)
			if expr, ok := props["ScheduleExpression"].(string); ok {
				every, err := rate(expr)
				if cfg.ScheduleEvery > 0 {
					every, err = cfg.ScheduleEvery, nil
				}
				if err != nil {
					return fmt.Errorf("rule %s: %w", id, err)
				}
				transform, err := readInputTransformer(target)
				if err != nil {
					return fmt.Errorf("rule %s: %w", id, err)
				}
				s.schedule(run, id, every, input, transform, fn)
				continue
			}
			bus := "default"
			if props["EventBusName"] != nil {
				var err error
				if bus, err = s.physical.resolve(props["EventBusName"]); err != nil {
					return fmt.Errorf("rule %s: event bus: %w", id, err)
				}
			}
			if err := s.patternRule(ctx, run, eb, id, bus, props["EventPattern"], input, fn, refersTo(target["Arn"])); err != nil {
				return fmt.Errorf("rule %s: %w", id, err)
			}
		}
	}
	return nil
}

func (s *Stack) functionOf(arn any) string {
	id := refersTo(arn)
	name, _ := s.physical.attr(id, "")
	return name
}

// createEventBuses creates each AWS::Events::EventBus on moto, named as
// the template names it or after its logical id. moto keeps no bus policy
// (AWS::Events::EventBusPolicy): what it admits is the template tests'
// to check; locally every sender is the one local account.
func (s *Stack) createEventBuses(ctx context.Context, _ Config) error {
	eb := s.eventsClient()
	for _, id := range s.template.OfType("AWS::Events::EventBus") {
		name, _ := s.template.Resources[id].Properties["Name"].(string)
		if name == "" {
			name = "StopCoord-" + id
		}
		if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)}); err != nil {
			return fmt.Errorf("create event bus %s: %w", id, err)
		}
		arn := "arn:aws:events:us-east-1:123456789012:event-bus/" + name
		s.physical.set(id, "", name)
		s.physical.set(id, "Name", name)
		s.physical.set(id, "Arn", arn)
	}
	return nil
}

func (s *Stack) patternRule(ctx, run context.Context, eb *eventbridge.Client, id, bus string, pattern any, input string, fn Invoker, fnID string) error {
	// A pattern may name the account or region: {"Ref": "AWS::AccountId"}.
	resolved, err := s.physical.resolveAll(pattern)
	if err != nil {
		return fmt.Errorf("event pattern: %w", err)
	}
	rawPattern, err := json.Marshal(resolved)
	if err != nil {
		return err
	}
	// An event the function keeps failing goes where Lambda would send it
	// after its retries: the function's on-failure queue.
	attrs := map[string]string{}
	if dlq, attempts := s.template.OnFailure(fnID); dlq != "" {
		arn, err := s.physical.attr(dlq, "Arn")
		if err != nil {
			return err
		}
		policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": attempts})
		attrs["RedrivePolicy"] = string(policy)
	}
	q, err := s.sqsClient().CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("StopCoord-rule-" + id), Attributes: attrs})
	if err != nil {
		return err
	}
	url := aws.ToString(q.QueueUrl)
	arn := "arn:aws:sqs:us-east-1:123456789012:StopCoord-rule-" + id
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("StopCoord-" + id), EventBusName: aws.String(bus), EventPattern: aws.String(string(rawPattern))}); err != nil {
		return fmt.Errorf("put rule: %w", err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("StopCoord-" + id), EventBusName: aws.String(bus), Targets: []ebtypes.Target{{Id: aws.String("relay"), Arn: aws.String(arn)}}}); err != nil {
		return fmt.Errorf("put targets: %w", err)
	}
	relay, err := eventrelay.New(s.sqsClient(), eventrelay.Config{QueueURL: url, Input: json.RawMessage(input)}, fn, s.log.With("rule", id))
	if err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := relay.Run(run); err != nil {
			s.log.Error("rule relay stopped", "rule", id, "error", err.Error())
		}
	}()
	return nil
}

func (s *Stack) schedule(run context.Context, id string, every time.Duration, input string, transform *inputTransformer, fn Invoker) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-run.Done():
				return
			case now := <-tick.C:
				payload := []byte(input)
				if input == "" {
					payload = scheduledEvent(id, now)
				}
				if transform != nil {
					var err error
					if payload, err = transform.apply(payload); err != nil {
						s.log.Warn("scheduled invocation skipped", "rule", id, "error", err.Error())
						continue
					}
				}
				if _, err := fn.Invoke(run, payload); err != nil && run.Err() == nil {
					s.log.Warn("scheduled invocation failed", "rule", id, "error", err.Error())
				}
			}
		}
	}()
}

// scheduledEvent is what EventBridge Scheduler rules send.
func scheduledEvent(rule string, at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": fmt.Sprintf("local-%d", at.UnixNano()), "detail-type": "Scheduled Event", "source": "aws.events",
		"account": pseudo["AWS::AccountId"], "time": at.UTC().Format(time.RFC3339), "region": pseudo["AWS::Region"],
		"resources": []string{"arn:aws:events:us-east-1:123456789012:rule/StopCoord-" + rule}, "detail": map[string]any{},
	})
	return b
}

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// rate reads an EventBridge rate expression; cron expressions need a
// ScheduleEvery override locally.
func rate(expr string) (time.Duration, error) {
	m := rateExpr.FindStringSubmatch(expr)
	if m == nil {
		return 0, fmt.Errorf("schedule %q: only rate(...) runs locally; set ScheduleEvery", expr)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}
