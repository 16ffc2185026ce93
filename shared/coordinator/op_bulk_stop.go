package coordinator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// StopMessage is one stop on the internal stop queue.
type StopMessage struct {
	ExecutionARN string `json:"executionArn"`
	Reason       string `json:"reason,omitempty"`
	Mode         string `json:"mode,omitempty"`
	Key          string `json:"key"`
	RequestedBy  string `json:"requestedBy,omitempty"`
}

// BulkStopInput asks to stop every running execution of a pipeline.
type BulkStopInput struct {
	PipelineName string
	Reason       string
	Mode         string
	Key          string // shared by every execution's stop request
	RequestedBy  string
}

// BulkStopResult says which executions were queued for a stop.
type BulkStopResult struct {
	Executions []QueuedStop `json:"executions"`
}

// QueuedStop is one execution queued for a stop, with the id its stop
// request will have.
type QueuedStop struct {
	ExecutionARN string `json:"executionArn"`
	StopID       string `json:"stopId"`
}

// BulkStop queues a stop for every Executing execution of a pipeline, and
// in force mode for every Stopping one too (a force answers what a
// graceful stop still waits for). The stop queue's consumer stops them
// within the SageMaker call budget, so one call can stop thousands without
// being throttled.
func (s *Service) BulkStop(ctx context.Context, in BulkStopInput) (BulkStopResult, error) {
	if err := pipeline.ValidatePipelineName(in.PipelineName); err != nil {
		return BulkStopResult{}, err
	}
	if err := s.access.CheckPipeline(in.PipelineName); err != nil {
		return BulkStopResult{}, err
	}
	key := in.Key
	if key == "" {
		mode, _ := pipeline.ParseStopMode(in.Mode) // an invalid mode fails just below
		key = "bulk-" + string(mode)
	}
	// Check the fields every queued stop shares now, not once per message.
	mode, reason, key, err := stopFields(in.Reason, in.Mode, key)
	if err != nil {
		return BulkStopResult{}, err
	}
	if s.sqs == nil || s.stopQueueURL == "" {
		return BulkStopResult{}, fmt.Errorf("bulk stop of %s: %w", in.PipelineName, errors.New("no stop queue configured"))
	}

	var queued []QueuedStop
	var batch []sqstypes.SendMessageBatchRequestEntry
	// Batches go out several at a time: a bulk stop of thousands sends
	// hundreds of them, and one after another they outlast the API's 29 s.
	var (
		wg       sync.WaitGroup
		inFlight = make(chan struct{}, bulkSendConcurrency)
		errMu    sync.Mutex
		sendErr  error
	)
	defer wg.Wait() // an error return leaves no send behind
	flush := func() {
		if len(batch) == 0 {
			return
		}
		entries := batch
		batch = nil
		inFlight <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-inFlight; wg.Done() }()
			if err := s.sendBatch(ctx, entries); err != nil {
				errMu.Lock()
				sendErr = errors.Join(sendErr, err)
				errMu.Unlock()
			}
		}()
	}
	p := sagemaker.NewListPipelineExecutionsPaginator(s.sm, &sagemaker.ListPipelineExecutionsInput{PipelineName: aws.String(in.PipelineName), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return BulkStopResult{}, fromSageMaker("list executions of", "pipeline "+in.PipelineName, err)
		}
		for _, e := range page.PipelineExecutionSummaries {
			if !bulkTarget(e.PipelineExecutionStatus, mode) {
				continue
			}
			arn, err := pipeline.ParseExecutionARN(aws.ToString(e.PipelineExecutionArn))
			if err != nil {
				return BulkStopResult{}, fmt.Errorf("bulk stop of %s: SageMaker listed %w", in.PipelineName, err)
			}
			if s.access.Check(arn) != nil {
				continue
			}
			body, _ := json.Marshal(StopMessage{ExecutionARN: arn.String(), Reason: reason, Mode: string(mode), Key: key, RequestedBy: in.RequestedBy})
			batch = append(batch, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(batch))), MessageBody: aws.String(string(body))})
			queued = append(queued, QueuedStop{ExecutionARN: arn.String(), StopID: pipeline.StopID(arn, key)})
			if len(batch) == 10 {
				flush()
			}
		}
	}
	flush()
	wg.Wait()
	if sendErr != nil {
		return BulkStopResult{}, sendErr
	}
	return BulkStopResult{Executions: append([]QueuedStop{}, queued...)}, nil
}

// bulkSendConcurrency is how many SendMessageBatch calls a bulk stop has
// in flight at once.
const bulkSendConcurrency = 8

// bulkTarget reports whether a bulk stop in the mode stops an execution in
// the status.
func bulkTarget(s smtypes.PipelineExecutionStatus, mode pipeline.StopMode) bool {
	return s == smtypes.PipelineExecutionStatusExecuting || mode == pipeline.StopForce && s == smtypes.PipelineExecutionStatusStopping
}

// sendBatch sends up to ten messages, retrying the entries SQS failed once.
func (s *Service) sendBatch(ctx context.Context, entries []sqstypes.SendMessageBatchRequestEntry) error {
	pending := entries
	for attempt := 0; attempt < 2 && len(pending) > 0; attempt++ {
		out, err := s.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.stopQueueURL), Entries: pending})
		if err != nil {
			return fmt.Errorf("queue stops: %w", errors.Join(pipeline.Errorf(pipeline.EUnavailable, "could not queue the stops"), err))
		}
		failed := map[string]bool{}
		for _, f := range out.Failed {
			failed[aws.ToString(f.Id)] = true
		}
		var retry []sqstypes.SendMessageBatchRequestEntry
		for _, e := range pending {
			if failed[aws.ToString(e.Id)] {
				retry = append(retry, e)
			}
		}
		pending = retry
	}
	if len(pending) > 0 {
		return fmt.Errorf("queue stops: %w", pipeline.Errorf(pipeline.EUnavailable, "%d stops could not be queued", len(pending)))
	}
	return nil
}

// ParseStopMessage decodes a stop queue message strictly.
func ParseStopMessage(body string) (StopMessage, error) {
	var m StopMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, pipeline.Errorf(pipeline.EInvalid, "stop message is not valid: %v", err)
	}
	if m.ExecutionARN == "" || m.Key == "" {
		return m, pipeline.Errorf(pipeline.EInvalid, "stop message needs executionArn and key")
	}
	return m, nil
}

// StopQueued carries out one queued stop. Outcomes that retrying cannot
// change (the execution ended, is unknown, or is not allowed) are done;
// throttling and failures of SageMaker or the ledger are returned for the
// queue to redeliver.
func (s *Service) StopQueued(ctx context.Context, m StopMessage) (StopResult, error) {
	res, err := s.Stop(ctx, StopInput{ExecutionARN: m.ExecutionARN, Reason: m.Reason, Mode: m.Mode, Key: m.Key, RequestedBy: m.RequestedBy})
	if err != nil && FinalStopError(err) {
		return res, &Settled{Err: err}
	}
	return res, err
}

// Settled wraps an error that ends a queued stop for good: report it, do
// not retry it.
type Settled struct{ Err error }

func (s *Settled) Error() string { return "settled: " + s.Err.Error() }
func (s *Settled) Unwrap() error { return s.Err }
