package emulator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/stopcoord/stopcoord/local/localaws"
)

// Emulator is a SageMaker Pipelines service in one process. Create it with
// New, serve it with Start (or mount Handler), and always Close it: Close
// ends every execution's goroutines.
type Emulator struct {
	opts Options
	log  *slog.Logger

	// mu guards every pipeline, execution, step and token below. Handlers
	// and engine goroutines hold it only for bookkeeping, never across a
	// network call or a wait, so it cannot deadlock against I/O.
	mu         sync.Mutex
	pipelines  map[string]*pipeline  // by lower-case name
	executions map[string]*execution // by lower-case ARN
	tokens     map[string]*tokenRef  // callback token -> step
	idem       map[idemKey]idemEntry // ClientRequestToken replays
	rng        *rand.Rand            // per-execution draws (dropped Stopping messages)
	closed     bool

	// ctx is cancelled by Close; every engine goroutine watches it and is
	// counted in wg.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	faults *faultInjector
	events *publisher
	// transport carries every outgoing call (SQS, EventBridge, Lambda);
	// Close drops its idle connections so no keep-alive goroutine outlives
	// the emulator.
	transport *http.Transport
	sqs       *sqs.Client
	lambda    *lambdaInvoker

	srvMu     sync.Mutex
	srv       *http.Server
	closeOnce sync.Once
	closeErr  error
}

// New checks the options and prepares an emulator. Nothing listens until
// Start; the event publisher runs from here on, so Close is always needed.
func New(opts Options) (*Emulator, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("sagemaker emulator options: %w", err)
	}
	cfg, err := awsConfig(opts)
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	httpClient := &http.Client{Transport: transport}
	cfg.HTTPClient = httpClient
	pub, err := newPublisher(opts, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Emulator{
		opts:       opts,
		log:        opts.Logger,
		pipelines:  map[string]*pipeline{},
		executions: map[string]*execution{},
		tokens:     map[string]*tokenRef{},
		idem:       map[idemKey]idemEntry{},
		rng:        rand.New(rand.NewSource(opts.Seed)),
		ctx:        ctx,
		cancel:     cancel,
		faults:     newFaultInjector(opts.Faults, opts.Seed),
		events:     pub,
		sqs:        sqs.NewFromConfig(cfg),
		lambda:     newLambdaInvoker(opts.Lambda, httpClient),
		transport:  transport,
	}
	pub.start()
	return e, nil
}

func awsConfig(opts Options) (aws.Config, error) {
	if opts.AWSConfig != nil {
		cfg := opts.AWSConfig.Copy()
		cfg.Region = opts.Region
		return cfg, nil
	}
	cfg, err := localaws.Config(context.Background())
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config for the emulator's clients: %w", err)
	}
	cfg.Region = opts.Region
	return cfg, nil
}

// Handler serves the wire protocol, for httptest.NewServer or a mux.
func (e *Emulator) Handler() http.Handler { return e }

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the
// background. It returns the base URL to use as the client's BaseEndpoint.
func (e *Emulator) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	e.srvMu.Lock()
	if e.srv != nil {
		e.srvMu.Unlock()
		_ = ln.Close()
		return "", errors.New("emulator already started")
	}
	e.srv = srv
	e.srvMu.Unlock()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("sagemaker emulator server stopped", "error", err)
		}
	}()
	url := "http://" + ln.Addr().String()
	e.log.Info("sagemaker emulator listening", "url", url)
	return url, nil
}

// Close stops the server, ends every running execution's goroutines (their
// executions stay where they were) and delivers the events already queued,
// all within ctx. It is safe to call more than once.
func (e *Emulator) Close(ctx context.Context) error {
	e.closeOnce.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		var errs []error
		e.srvMu.Lock()
		srv := e.srv
		e.srvMu.Unlock()
		if srv != nil {
			if err := srv.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("shut down the server: %w", err))
				_ = srv.Close()
			}
		}
		e.cancel()
		if err := waitGroup(ctx, &e.wg); err != nil {
			errs = append(errs, fmt.Errorf("wait for execution goroutines: %w", err))
		}
		if err := e.events.close(ctx); err != nil {
			errs = append(errs, err)
		}
		e.transport.CloseIdleConnections()
		e.closeErr = errors.Join(errs...)
	})
	return e.closeErr
}

func waitGroup(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// goEngine runs f as an engine goroutine that Close waits for. It reports
// false when the emulator is closing and f was not started. The caller holds
// e.mu, which orders it against Close setting closed.
func (e *Emulator) goEngine(f func()) bool {
	if e.closed {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f()
	}()
	return true
}

// sleep waits a modelled duration (scaled) or until ctx ends; it reports
// whether the full time passed.
func (e *Emulator) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(e.opts.scaled(d))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *Emulator) now() time.Time { return e.opts.Now().UTC() }
