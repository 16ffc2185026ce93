package emulator

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// This file holds the request and response members as they travel on the
// JSON 1.1 wire: PascalCase names exactly as modeled, optional members as
// pointers so "absent" and "empty" stay distinguishable for validation.

// epochTime is a timestamp on the wire: epoch seconds as a JSON number with
// millisecond precision, the default timestampFormat of awsJson1_1. The SDK
// rejects strings here, so never emit RFC3339 in API responses.
type epochTime time.Time

func (t epochTime) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

func (t *epochTime) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return &json.UnsupportedValueError{Str: string(b)}
	}
	sec, frac := math.Modf(f)
	*t = epochTime(time.Unix(int64(sec), int64(frac*1e9)).UTC())
	return nil
}

func epoch(t time.Time) *epochTime {
	if t.IsZero() {
		return nil
	}
	e := epochTime(t)
	return &e
}

type parameter struct {
	Name  *string `json:"Name"`
	Value *string `json:"Value"`
}

type outputParameter struct {
	Name  *string `json:"Name"`
	Value *string `json:"Value"`
}

type parallelismConfiguration struct {
	MaxParallelExecutionSteps *int64 `json:"MaxParallelExecutionSteps"`
}

type s3Location struct {
	Bucket    *string `json:"Bucket"`
	ObjectKey *string `json:"ObjectKey"`
	VersionID *string `json:"VersionId"`
}

type tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

type createPipelineInput struct {
	PipelineName                 *string                   `json:"PipelineName"`
	PipelineDisplayName          *string                   `json:"PipelineDisplayName"`
	PipelineDefinition           *string                   `json:"PipelineDefinition"`
	PipelineDefinitionS3Location *s3Location               `json:"PipelineDefinitionS3Location"`
	PipelineDescription          *string                   `json:"PipelineDescription"`
	ClientRequestToken           *string                   `json:"ClientRequestToken"`
	RoleArn                      *string                   `json:"RoleArn"`
	Tags                         []tag                     `json:"Tags"`
	ParallelismConfiguration     *parallelismConfiguration `json:"ParallelismConfiguration"`
}

type pipelineArnOutput struct {
	PipelineArn string `json:"PipelineArn"`
}

type describePipelineInput struct {
	PipelineName      *string `json:"PipelineName"`
	PipelineVersionID *int64  `json:"PipelineVersionId"`
}

type describePipelineOutput struct {
	PipelineArn              string                    `json:"PipelineArn"`
	PipelineName             string                    `json:"PipelineName"`
	PipelineDisplayName      string                    `json:"PipelineDisplayName,omitempty"`
	PipelineDefinition       string                    `json:"PipelineDefinition"`
	PipelineDescription      string                    `json:"PipelineDescription,omitempty"`
	RoleArn                  string                    `json:"RoleArn,omitempty"`
	PipelineStatus           string                    `json:"PipelineStatus"`
	CreationTime             *epochTime                `json:"CreationTime,omitempty"`
	LastModifiedTime         *epochTime                `json:"LastModifiedTime,omitempty"`
	LastRunTime              *epochTime                `json:"LastRunTime,omitempty"`
	ParallelismConfiguration *parallelismConfiguration `json:"ParallelismConfiguration,omitempty"`
	// The version's own name and description, when it was given any.
	PipelineVersionDisplayName string `json:"PipelineVersionDisplayName,omitempty"`
	PipelineVersionDescription string `json:"PipelineVersionDescription,omitempty"`
}

type deletePipelineInput struct {
	PipelineName       *string `json:"PipelineName"`
	ClientRequestToken *string `json:"ClientRequestToken"`
}

type listPipelinesInput struct {
	PipelineNamePrefix *string    `json:"PipelineNamePrefix"`
	CreatedAfter       *epochTime `json:"CreatedAfter"`
	CreatedBefore      *epochTime `json:"CreatedBefore"`
	SortBy             *string    `json:"SortBy"`
	SortOrder          *string    `json:"SortOrder"`
	NextToken          *string    `json:"NextToken"`
	MaxResults         *int64     `json:"MaxResults"`
}

type pipelineSummary struct {
	PipelineArn         string     `json:"PipelineArn"`
	PipelineName        string     `json:"PipelineName"`
	PipelineDisplayName string     `json:"PipelineDisplayName,omitempty"`
	PipelineDescription string     `json:"PipelineDescription,omitempty"`
	RoleArn             string     `json:"RoleArn,omitempty"`
	CreationTime        *epochTime `json:"CreationTime,omitempty"`
	LastModifiedTime    *epochTime `json:"LastModifiedTime,omitempty"`
	LastExecutionTime   *epochTime `json:"LastExecutionTime,omitempty"`
}

type listPipelinesOutput struct {
	PipelineSummaries []pipelineSummary `json:"PipelineSummaries"`
	NextToken         string            `json:"NextToken,omitempty"`
}

type startPipelineExecutionInput struct {
	PipelineName                 *string                   `json:"PipelineName"`
	PipelineExecutionDisplayName *string                   `json:"PipelineExecutionDisplayName"`
	PipelineParameters           []parameter               `json:"PipelineParameters"`
	PipelineExecutionDescription *string                   `json:"PipelineExecutionDescription"`
	ClientRequestToken           *string                   `json:"ClientRequestToken"`
	ParallelismConfiguration     *parallelismConfiguration `json:"ParallelismConfiguration"`
	PipelineVersionID            *int64                    `json:"PipelineVersionId"`
	SelectiveExecutionConfig     json.RawMessage           `json:"SelectiveExecutionConfig"`
	MlflowExperimentName         *string                   `json:"MlflowExperimentName"`
}

type executionArnInput struct {
	PipelineExecutionArn *string `json:"PipelineExecutionArn"`
}

type executionArnOutput struct {
	PipelineExecutionArn string `json:"PipelineExecutionArn"`
}

type experimentConfig struct {
	ExperimentName string `json:"ExperimentName,omitempty"`
	TrialName      string `json:"TrialName,omitempty"`
}

type describePipelineExecutionOutput struct {
	PipelineArn                  string                    `json:"PipelineArn"`
	PipelineExecutionArn         string                    `json:"PipelineExecutionArn"`
	PipelineExecutionDisplayName string                    `json:"PipelineExecutionDisplayName,omitempty"`
	PipelineExecutionStatus      string                    `json:"PipelineExecutionStatus"`
	PipelineExecutionDescription string                    `json:"PipelineExecutionDescription,omitempty"`
	PipelineExperimentConfig     *experimentConfig         `json:"PipelineExperimentConfig,omitempty"`
	FailureReason                string                    `json:"FailureReason,omitempty"`
	CreationTime                 *epochTime                `json:"CreationTime,omitempty"`
	LastModifiedTime             *epochTime                `json:"LastModifiedTime,omitempty"`
	ParallelismConfiguration     *parallelismConfiguration `json:"ParallelismConfiguration,omitempty"`
	PipelineVersionID            int64                     `json:"PipelineVersionId,omitempty"`
	MLflowConfig                 *mlflowConfiguration      `json:"MLflowConfig,omitempty"`
}

type mlflowConfiguration struct {
	MlflowExperimentName string `json:"MlflowExperimentName,omitempty"`
}

type listPipelineExecutionsInput struct {
	PipelineName  *string    `json:"PipelineName"`
	CreatedAfter  *epochTime `json:"CreatedAfter"`
	CreatedBefore *epochTime `json:"CreatedBefore"`
	SortBy        *string    `json:"SortBy"`
	SortOrder     *string    `json:"SortOrder"`
	NextToken     *string    `json:"NextToken"`
	MaxResults    *int64     `json:"MaxResults"`
}

type pipelineExecutionSummary struct {
	PipelineExecutionArn           string     `json:"PipelineExecutionArn"`
	StartTime                      *epochTime `json:"StartTime,omitempty"`
	PipelineExecutionStatus        string     `json:"PipelineExecutionStatus"`
	PipelineExecutionDescription   string     `json:"PipelineExecutionDescription,omitempty"`
	PipelineExecutionDisplayName   string     `json:"PipelineExecutionDisplayName,omitempty"`
	PipelineExecutionFailureReason string     `json:"PipelineExecutionFailureReason,omitempty"`
}

type listPipelineExecutionsOutput struct {
	PipelineExecutionSummaries []pipelineExecutionSummary `json:"PipelineExecutionSummaries"`
	NextToken                  string                     `json:"NextToken,omitempty"`
}

type listPipelineExecutionStepsInput struct {
	PipelineExecutionArn *string `json:"PipelineExecutionArn"`
	NextToken            *string `json:"NextToken"`
	MaxResults           *int64  `json:"MaxResults"`
	SortOrder            *string `json:"SortOrder"`
}

type wireOutputParameter struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type arnMetadata struct {
	Arn string `json:"Arn"`
}

type callbackMetadata struct {
	CallbackToken    string                `json:"CallbackToken,omitempty"`
	SqsQueueURL      string                `json:"SqsQueueUrl,omitempty"`
	OutputParameters []wireOutputParameter `json:"OutputParameters,omitempty"`
}

type lambdaMetadata struct {
	Arn              string                `json:"Arn,omitempty"`
	OutputParameters []wireOutputParameter `json:"OutputParameters,omitempty"`
}

type conditionMetadata struct {
	Outcome string `json:"Outcome,omitempty"`
}

type failMetadata struct {
	ErrorMessage string `json:"ErrorMessage"`
}

type stepMetadata struct {
	TrainingJob   *arnMetadata       `json:"TrainingJob,omitempty"`
	ProcessingJob *arnMetadata       `json:"ProcessingJob,omitempty"`
	TransformJob  *arnMetadata       `json:"TransformJob,omitempty"`
	TuningJob     *arnMetadata       `json:"TuningJob,omitempty"`
	Callback      *callbackMetadata  `json:"Callback,omitempty"`
	Lambda        *lambdaMetadata    `json:"Lambda,omitempty"`
	Condition     *conditionMetadata `json:"Condition,omitempty"`
	Fail          *failMetadata      `json:"Fail,omitempty"`
}

type pipelineExecutionStep struct {
	StepName        string        `json:"StepName"`
	StepDisplayName string        `json:"StepDisplayName,omitempty"`
	StepDescription string        `json:"StepDescription,omitempty"`
	StartTime       *epochTime    `json:"StartTime,omitempty"`
	EndTime         *epochTime    `json:"EndTime,omitempty"`
	StepStatus      string        `json:"StepStatus"`
	FailureReason   string        `json:"FailureReason,omitempty"`
	Metadata        *stepMetadata `json:"Metadata,omitempty"`
	AttemptCount    int           `json:"AttemptCount"`
}

type listPipelineExecutionStepsOutput struct {
	PipelineExecutionSteps []pipelineExecutionStep `json:"PipelineExecutionSteps"`
	NextToken              string                  `json:"NextToken,omitempty"`
}

type stopPipelineExecutionInput struct {
	PipelineExecutionArn *string `json:"PipelineExecutionArn"`
	ClientRequestToken   *string `json:"ClientRequestToken"`
}

type sendStepSuccessInput struct {
	CallbackToken      *string           `json:"CallbackToken"`
	OutputParameters   []outputParameter `json:"OutputParameters"`
	ClientRequestToken *string           `json:"ClientRequestToken"`
}

type sendStepFailureInput struct {
	CallbackToken      *string `json:"CallbackToken"`
	FailureReason      *string `json:"FailureReason"`
	ClientRequestToken *string `json:"ClientRequestToken"`
}

type updatePipelineInput struct {
	PipelineName                 *string                   `json:"PipelineName"`
	PipelineDisplayName          *string                   `json:"PipelineDisplayName"`
	PipelineDefinition           *string                   `json:"PipelineDefinition"`
	PipelineDefinitionS3Location *s3Location               `json:"PipelineDefinitionS3Location"`
	PipelineDescription          *string                   `json:"PipelineDescription"`
	RoleArn                      *string                   `json:"RoleArn"`
	ParallelismConfiguration     *parallelismConfiguration `json:"ParallelismConfiguration"`
}

type pipelineVersionOutput struct {
	PipelineArn       string `json:"PipelineArn"`
	PipelineVersionID int64  `json:"PipelineVersionId"`
}

type listPipelineVersionsInput struct {
	PipelineName  *string    `json:"PipelineName"`
	CreatedAfter  *epochTime `json:"CreatedAfter"`
	CreatedBefore *epochTime `json:"CreatedBefore"`
	SortOrder     *string    `json:"SortOrder"`
	NextToken     *string    `json:"NextToken"`
	MaxResults    *int64     `json:"MaxResults"`
}

type pipelineVersionSummary struct {
	PipelineArn                       string     `json:"PipelineArn"`
	PipelineVersionID                 int64      `json:"PipelineVersionId"`
	CreationTime                      *epochTime `json:"CreationTime,omitempty"`
	PipelineVersionDescription        string     `json:"PipelineVersionDescription,omitempty"`
	PipelineVersionDisplayName        string     `json:"PipelineVersionDisplayName,omitempty"`
	LastExecutionPipelineExecutionArn string     `json:"LastExecutionPipelineExecutionArn,omitempty"`
}

type listPipelineVersionsOutput struct {
	PipelineVersionSummaries []pipelineVersionSummary `json:"PipelineVersionSummaries"`
	NextToken                string                   `json:"NextToken,omitempty"`
}

type updatePipelineVersionInput struct {
	PipelineArn                *string `json:"PipelineArn"`
	PipelineVersionID          *int64  `json:"PipelineVersionId"`
	PipelineVersionDisplayName *string `json:"PipelineVersionDisplayName"`
	PipelineVersionDescription *string `json:"PipelineVersionDescription"`
}

type updatePipelineExecutionInput struct {
	PipelineExecutionArn         *string                   `json:"PipelineExecutionArn"`
	PipelineExecutionDescription *string                   `json:"PipelineExecutionDescription"`
	PipelineExecutionDisplayName *string                   `json:"PipelineExecutionDisplayName"`
	ParallelismConfiguration     *parallelismConfiguration `json:"ParallelismConfiguration"`
}

type retryPipelineExecutionInput struct {
	PipelineExecutionArn     *string                   `json:"PipelineExecutionArn"`
	ClientRequestToken       *string                   `json:"ClientRequestToken"`
	ParallelismConfiguration *parallelismConfiguration `json:"ParallelismConfiguration"`
}

type describePipelineDefinitionForExecutionOutput struct {
	PipelineDefinition string     `json:"PipelineDefinition"`
	CreationTime       *epochTime `json:"CreationTime,omitempty"`
}

type listPipelineParametersForExecutionInput struct {
	PipelineExecutionArn *string `json:"PipelineExecutionArn"`
	NextToken            *string `json:"NextToken"`
	MaxResults           *int64  `json:"MaxResults"`
}

type wireParameter struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type listPipelineParametersForExecutionOutput struct {
	PipelineParameters []wireParameter `json:"PipelineParameters"`
	NextToken          string          `json:"NextToken,omitempty"`
}
