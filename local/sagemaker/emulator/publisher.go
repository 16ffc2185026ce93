package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// envelope is an event as EventBridge delivers it; the JSON-lines file gets
// exactly this shape.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// reorderHold is how long a held-back event waits for a successor before it
// is delivered anyway.
const reorderHold = 50 * time.Millisecond

// publisher delivers events from one goroutine, in the order they were
// queued, so the stream is deterministic unless the duplicate or reorder
// switches are on. A failed delivery is logged and never blocks the engine.
type publisher struct {
	region, account, bus string
	client               *eventbridge.Client // nil: no PutEvents
	file                 *os.File            // nil: no file
	log                  *slog.Logger
	duplicate, reorder   float64
	rng                  *rand.Rand // used only by the run goroutine

	mu    sync.Mutex
	queue []envelope

	wake      chan struct{}
	stop      chan struct{}
	stopOnce  sync.Once
	done      chan struct{}
	ctx       context.Context // cancelled when Close gives up on delivery
	cancel    context.CancelFunc
	closeOnce sync.Once
	closeErr  error
}

func newPublisher(opts Options, cfg aws.Config) (*publisher, error) {
	p := &publisher{
		region: opts.Region, account: opts.AccountID, bus: opts.EventBusName, log: opts.Logger,
		duplicate: opts.Switches.DuplicateEvents, reorder: opts.Switches.ReorderEvents,
		rng:  rand.New(rand.NewSource(opts.Seed + 1)),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if opts.EventBridgeEndpoint != "" {
		p.client = eventbridge.NewFromConfig(cfg, func(o *eventbridge.Options) {
			o.BaseEndpoint = aws.String(opts.EventBridgeEndpoint)
		})
	}
	if opts.EventsFile != "" {
		f, err := os.OpenFile(opts.EventsFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open events file: %w", err)
		}
		p.file = f
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return p, nil
}

func (p *publisher) start() { go p.run() }

// enqueue adds an event; it never blocks on delivery.
func (p *publisher) enqueue(detailType string, at time.Time, resources []string, detail map[string]any) {
	b, err := json.Marshal(detail)
	if err != nil {
		p.log.Error("encode event detail", "detailType", detailType, "error", err)
		return
	}
	ev := envelope{
		Version: "0", ID: newUUID(), DetailType: detailType, Source: EventSource, Account: p.account,
		Time: eventTime(at), Region: p.region, Resources: resources, Detail: b,
	}
	p.mu.Lock()
	p.queue = append(p.queue, ev)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *publisher) take() []envelope {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.queue
	p.queue = nil
	return q
}

func (p *publisher) run() {
	defer close(p.done)
	var held *envelope
	var holdTimer *time.Timer
	var holdC <-chan time.Time
	release := func(out []envelope) []envelope {
		if held != nil {
			out = append(out, *held)
			held = nil
		}
		if holdTimer != nil {
			holdTimer.Stop()
			holdTimer, holdC = nil, nil
		}
		return out
	}
	for {
		var out []envelope
		for _, ev := range p.take() {
			switch {
			case held != nil:
				out = release(append(out, ev))
			case p.reorder > 0 && p.rng.Float64() < p.reorder:
				h := ev
				held = &h
				holdTimer = time.NewTimer(reorderHold)
				holdC = holdTimer.C
			default:
				out = append(out, ev)
			}
		}
		p.deliver(out)
		select {
		case <-p.wake:
		case <-holdC:
			holdTimer, holdC = nil, nil
			p.deliver(release(nil))
		case <-p.stop:
			p.deliver(release(p.take()))
			return
		}
	}
}

// maxPutEntries is the PutEvents limit on entries per call.
const maxPutEntries = 10

// deliver writes the events to the file and puts them on the bus in order,
// up to ten per PutEvents call; the duplicate switch sends an event twice
// in a row.
func (p *publisher) deliver(evs []envelope) {
	if len(evs) == 0 {
		return
	}
	var out []envelope
	for _, ev := range evs {
		out = append(out, ev)
		if p.duplicate > 0 && p.rng.Float64() < p.duplicate {
			out = append(out, ev)
		}
	}
	if p.file != nil {
		var buf []byte
		for _, ev := range out {
			line, _ := json.Marshal(ev) // envelope always marshals
			buf = append(append(buf, line...), '\n')
		}
		if _, err := p.file.Write(buf); err != nil {
			p.log.Error("write events to file", "error", err)
		}
	}
	if p.client == nil {
		return
	}
	for len(out) > 0 {
		n := min(len(out), maxPutEntries)
		p.put(out[:n])
		out = out[n:]
	}
}

func (p *publisher) put(evs []envelope) {
	entries := make([]ebtypes.PutEventsRequestEntry, 0, len(evs))
	for _, ev := range evs {
		t, _ := time.Parse(time.RFC3339, ev.Time)
		entries = append(entries, ebtypes.PutEventsRequestEntry{
			Source: aws.String(ev.Source), DetailType: aws.String(ev.DetailType), Detail: aws.String(string(ev.Detail)),
			Resources: ev.Resources, EventBusName: aws.String(p.bus), Time: aws.Time(t),
		})
	}
	out, err := p.client.PutEvents(p.ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		p.log.Error("put events", "count", len(evs), "error", err)
		return
	}
	for i, r := range out.Entries {
		if r.ErrorCode != nil && i < len(evs) {
			p.log.Error("put event", "detailType", evs[i].DetailType, "error", aws.ToString(r.ErrorCode)+": "+aws.ToString(r.ErrorMessage))
		}
	}
}

// close delivers what is queued and stops the goroutine; when ctx ends
// first, in-flight deliveries are cancelled.
func (p *publisher) close(ctx context.Context) error {
	p.closeOnce.Do(func() {
		p.stopOnce.Do(func() { close(p.stop) })
		var errs []error
		select {
		case <-p.done:
		case <-ctx.Done():
			p.cancel()
			<-p.done
			errs = append(errs, fmt.Errorf("deliver queued events: %w", ctx.Err()))
		}
		p.cancel()
		if p.file != nil {
			if err := p.file.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close events file: %w", err))
			}
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}
