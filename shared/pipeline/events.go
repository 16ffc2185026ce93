package pipeline

// The EventBridge events stopcoord takes: SageMaker Pipelines' two status
// changes, and stopcoord's own stop request. infra's rules, the
// status-events function and (by a test that holds them together) the
// SageMaker emulator use these one set of strings.
const (
	SourceSageMaker       = "aws.sagemaker"
	DetailExecutionStatus = "SageMaker Model Building Pipeline Execution Status Change"
	DetailStepStatus      = "SageMaker Model Building Pipeline Execution Step Status Change"
	SourceStopcoord       = "stopcoord"
	DetailStopRequested   = "Stop Requested"
)
