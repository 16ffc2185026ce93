// Package eventrelay is the local stand-in for an EventBridge rule with a
// Lambda target. moto's EventBridge cannot invoke Lambda (a Lambda target
// makes PutEvents fail), so the local stack points the rule at an SQS
// queue instead, and the relay reads that queue, unwraps each message body
// (the event envelope EventBridge would have passed to the function) and
// invokes the function with it: one event per invocation, as EventBridge
// does. A message is deleted when the invocation succeeds; otherwise it
// returns after the queue's visibility timeout, which stands in for
// EventBridge's retries (and the queue's redrive policy for its DLQ).
package eventrelay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client the relay uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

var _ SQSAPI = (*sqs.Client)(nil)

// Invoker runs the function with one event; *rie.Function satisfies it.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokerFunc lets a plain function (an in-process handler) be an Invoker.
type InvokerFunc func(ctx context.Context, payload []byte) ([]byte, error)

// Invoke calls f.
func (f InvokerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

// DefaultAccount is the account moto runs as; its envelopes leave the
// account out, and the relay puts it back.
const DefaultAccount = "123456789012"

// Config says what the relay reads and how it shapes each event.
type Config struct {
	QueueURL string
	// WaitTime is the long-poll wait, whole seconds from 1 s to 20 s; zero
	// means 1 s.
	WaitTime time.Duration
	// Account fills the envelope's "account", which moto omits. Default
	// DefaultAccount.
	Account string
	// Input, when set, replaces each event with this envelope, keeping the
	// delivered event's id and time: what a rule target with constant input
	// does in AWS (in CDK, RuleTargetInput.fromObject with EventField.eventId
	// and EventField.time). moto ignores a target's Input, so the relay
	// applies it.
	Input json.RawMessage
}

// Stats counts what one poll did.
type Stats struct {
	Received, Invoked, Deleted, Failed int
}

// Relay moves events from one queue to one function.
type Relay struct {
	client SQSAPI
	cfg    Config
	fn     Invoker
	log    *slog.Logger
	input  map[string]json.RawMessage
}

// New returns a relay, or every configuration problem at once. A nil
// logger discards logs.
func New(client SQSAPI, cfg Config, fn Invoker, logger *slog.Logger) (*Relay, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.WaitTime == 0 {
		cfg.WaitTime = time.Second
	}
	if cfg.Account == "" {
		cfg.Account = DefaultAccount
	}
	var problems []error
	if client == nil {
		problems = append(problems, errors.New("no SQS client"))
	}
	if fn == nil {
		problems = append(problems, errors.New("no function to invoke"))
	}
	if cfg.QueueURL == "" {
		problems = append(problems, errors.New("QueueURL is empty"))
	}
	if cfg.WaitTime < time.Second || cfg.WaitTime > 20*time.Second || cfg.WaitTime%time.Second != 0 {
		problems = append(problems, fmt.Errorf("WaitTime %s is not a whole number of seconds from 1s to 20s", cfg.WaitTime))
	}
	r := &Relay{client: client, cfg: cfg, fn: fn, log: logger.With("queueUrl", cfg.QueueURL)}
	if len(cfg.Input) > 0 {
		if err := json.Unmarshal(cfg.Input, &r.input); err != nil || r.input == nil {
			problems = append(problems, fmt.Errorf("Input is not a JSON object: %v", err))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("configure event relay for %q: %w", cfg.QueueURL, errors.Join(problems...))
	}
	return r, nil
}

// Run relays until ctx is done. Receive failures are logged and retried
// after a short pause.
func (r *Relay) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		if _, err := r.PollOnce(ctx); err != nil && ctx.Err() == nil {
			r.log.ErrorContext(ctx, "event relay poll failed", "error", err)
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// PollOnce receives up to ten events and invokes the function with each in
// turn, deleting the ones it handled. A function failure is counted, not
// returned; the error reports a receive or delete that failed.
func (r *Relay) PollOnce(ctx context.Context) (Stats, error) {
	out, err := r.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:            aws.String(r.cfg.QueueURL),
		MaxNumberOfMessages: 10,
		WaitTimeSeconds:     int32(r.cfg.WaitTime / time.Second),
	})
	if err != nil {
		return Stats{}, fmt.Errorf("receive events from %s: %w", r.cfg.QueueURL, err)
	}
	st := Stats{Received: len(out.Messages)}
	// Events received are ours: finish them even if the caller stops.
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, m := range out.Messages {
		payload, err := r.event(aws.ToString(m.Body))
		if err != nil {
			// Not an envelope: nothing EventBridge would deliver. Leave it
			// for the redrive policy, as a failed delivery would be.
			r.log.WarnContext(ctx, "message is not an event envelope", "messageId", aws.ToString(m.MessageId), "error", err)
			st.Failed++
			continue
		}
		st.Invoked++
		if _, err := r.fn.Invoke(ctx, payload); err != nil {
			r.log.WarnContext(ctx, "function failed; the event returns after its visibility timeout", "messageId", aws.ToString(m.MessageId), "error", err)
			st.Failed++
			continue
		}
		if _, err := r.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.cfg.QueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
			errs = append(errs, fmt.Errorf("delete message %s: %w", aws.ToString(m.MessageId), err))
			continue
		}
		st.Deleted++
	}
	return st, errors.Join(errs...)
}

// event turns a message body into the event the function gets: the
// envelope with its account, or the constant input with the delivered
// event's id and time.
func (r *Relay) event(body string) ([]byte, error) {
	var env map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil || env == nil {
		return nil, fmt.Errorf("decode envelope: %v", err)
	}
	if _, ok := env["detail-type"]; !ok {
		return nil, errors.New(`envelope has no "detail-type"`)
	}
	if r.input != nil {
		in := make(map[string]json.RawMessage, len(r.input))
		for k, v := range r.input {
			in[k] = v
		}
		in["id"], in["time"] = env["id"], env["time"]
		env = in
	}
	if _, ok := env["account"]; !ok {
		acct, _ := json.Marshal(r.cfg.Account)
		env["account"] = acct
	}
	return json.Marshal(env)
}
