package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// The events this function takes: SageMaker's two status changes, and
// stopcoord's own stop request (from a rule, a schedule or a person).
const (
	sourceSageMaker     = pipeline.SourceSageMaker
	detailExecution     = pipeline.DetailExecutionStatus
	detailStep          = pipeline.DetailStepStatus
	sourceStopcoord     = pipeline.SourceStopcoord
	detailStopRequested = pipeline.DetailStopRequested
)

// executionDetail is the detail of an execution status change. SageMaker
// owns the schema and may add fields, so unknown fields are ignored; the
// fields stopcoord needs are checked.
type executionDetail struct {
	ExecutionARN string `json:"pipelineExecutionArn"`
	Current      string `json:"currentPipelineExecutionStatus"`
	StartTime    string `json:"executionStartTime"`
	EndTime      string `json:"executionEndTime"`
	DisplayName  string `json:"pipelineExecutionDisplayName"`
}

// stepDetail is the detail of a step status change.
type stepDetail struct {
	ExecutionARN  string          `json:"pipelineExecutionArn"`
	StepName      string          `json:"stepName"`
	StepType      string          `json:"stepType"`
	Current       string          `json:"currentStepStatus"`
	StartTime     string          `json:"stepStartTime"`
	EndTime       string          `json:"stepEndTime"`
	FailureReason string          `json:"failureReason"`
	Metadata      json.RawMessage `json:"metadata"`
}

// executionChange turns an execution event into the ledger's change. The
// change's time orders same-status events: the end time for a terminal
// status, the start time for Executing, else the envelope's time.
func executionChange(raw json.RawMessage, envelopeTime time.Time) (pipeline.ExecutionChange, error) {
	var d executionDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return pipeline.ExecutionChange{}, fmt.Errorf("decode execution status detail: %w", err)
	}
	arn, err := pipeline.ParseExecutionARN(d.ExecutionARN)
	if err != nil {
		return pipeline.ExecutionChange{}, fmt.Errorf("execution status detail: %w", err)
	}
	status, err := pipeline.ParseExecutionStatus(d.Current)
	if err != nil {
		return pipeline.ExecutionChange{}, fmt.Errorf("execution status detail of %s: %w", arn, err)
	}
	c := pipeline.ExecutionChange{ARN: arn, Status: status, DisplayName: d.DisplayName}
	if c.StartedAt, err = eventTime("executionStartTime", d.StartTime); err != nil {
		return c, err
	}
	if c.EndedAt, err = eventTime("executionEndTime", d.EndTime); err != nil {
		return c, err
	}
	c.At = changeTime(status.Terminal(), status == pipeline.ExecutionExecuting, c.StartedAt, c.EndedAt, envelopeTime)
	// A retry's Executing carries the first run's start time, which is
	// before the end it reopens; the event's own time, when later, is when
	// this attempt began, so the ledger can order it after that end.
	if status == pipeline.ExecutionExecuting && envelopeTime.After(c.At) {
		c.At = envelopeTime.UTC()
	}
	return c, nil
}

// stepChange turns a step event into the ledger's change, with what its
// metadata says: the callback token, the Lambda function, the job.
func stepChange(raw json.RawMessage, envelopeTime time.Time) (pipeline.StepChange, error) {
	var d stepDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return pipeline.StepChange{}, fmt.Errorf("decode step status detail: %w", err)
	}
	arn, err := pipeline.ParseExecutionARN(d.ExecutionARN)
	if err != nil {
		return pipeline.StepChange{}, fmt.Errorf("step status detail: %w", err)
	}
	status, err := pipeline.ParseStepStatus(d.Current)
	if err != nil {
		return pipeline.StepChange{}, fmt.Errorf("step status detail of %s: %w", arn, err)
	}
	if strings.TrimSpace(d.StepName) == "" {
		return pipeline.StepChange{}, fmt.Errorf("step status detail of %s: stepName is empty", arn)
	}
	c := pipeline.StepChange{ARN: arn, StepName: d.StepName, Kind: pipeline.StepKind(d.StepType), Status: status, FailureReason: d.FailureReason}
	if c.StartedAt, err = eventTime("stepStartTime", d.StartTime); err != nil {
		return c, err
	}
	if c.EndedAt, err = eventTime("stepEndTime", d.EndTime); err != nil {
		return c, err
	}
	running := status == pipeline.StepStarting || status == pipeline.StepExecuting
	c.At = changeTime(status.Terminal(), running, c.StartedAt, c.EndedAt, envelopeTime)
	if err := addMetadata(&c, d.Metadata); err != nil {
		return c, fmt.Errorf("step status detail of %s step %s: %w", arn, d.StepName, err)
	}
	return c, nil
}

// changeTime picks the best time the event gives for its status.
func changeTime(terminal, running bool, start, end, envelope time.Time) time.Time {
	switch {
	case terminal && !end.IsZero():
		return end
	case running && !start.IsZero():
		return start
	}
	return envelope
}

func eventTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not an RFC 3339 time", field, s)
	}
	return t.UTC(), nil
}

// stepMetadata is the part of the camelCase step metadata stopcoord reads.
type stepMetadata struct {
	Callback *struct {
		CallbackToken string `json:"callbackToken"`
	} `json:"callback"`
	Lambda        *arnOnly `json:"lambda"`
	TrainingJob   *arnOnly `json:"trainingJob"`
	ProcessingJob *arnOnly `json:"processingJob"`
	TransformJob  *arnOnly `json:"transformJob"`
	TuningJob     *arnOnly `json:"tuningJob"`
}

type arnOnly struct {
	ARN string `json:"arn"`
}

// addMetadata reads the token, function and job from the metadata and
// keeps the whole object, so what stopcoord does not read yet is not lost.
func addMetadata(c *pipeline.StepChange, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return nil
	}
	var m stepMetadata
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("decode metadata: %w", err)
	}
	if m.Callback != nil {
		c.CallbackToken = m.Callback.CallbackToken
	}
	if m.Lambda != nil {
		c.FunctionARN = m.Lambda.ARN
	}
	for _, job := range []*arnOnly{m.TrainingJob, m.ProcessingJob, m.TransformJob, m.TuningJob} {
		if job != nil && job.ARN != "" {
			c.JobARN = job.ARN
		}
	}
	if err := json.Unmarshal(raw, &c.Metadata); err != nil {
		return fmt.Errorf("decode metadata: %w", err)
	}
	return nil
}

// stopDetail is the detail of a Stop Requested event. stopcoord owns this
// schema, so decoding is strict: a typo in a rule's input is an error, not a
// stop of the wrong thing.
type stopDetail struct {
	ExecutionARN string `json:"pipelineExecutionArn"`
	PipelineName string `json:"pipelineName"`
	Reason       string `json:"reason"`
	Mode         string `json:"mode"`
}

func parseStopDetail(raw json.RawMessage) (stopDetail, error) {
	var d stopDetail
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, pipeline.Errorf(pipeline.EInvalid, "Stop Requested detail is not valid: %v", err)
	}
	if (d.ExecutionARN == "") == (d.PipelineName == "") {
		return d, pipeline.Errorf(pipeline.EInvalid, "Stop Requested detail needs exactly one of pipelineExecutionArn and pipelineName")
	}
	return d, nil
}
