package pipeline

import (
	"regexp"
	"strings"
)

// ExecutionARN identifies one pipeline execution:
// arn:<partition>:sagemaker:<region>:<account>:pipeline/<pipeline>/execution/<id>.
type ExecutionARN struct {
	Partition   string
	Region      string
	Account     string
	Pipeline    string
	ExecutionID string
}

// MaxARNLength is the API's limit on a pipeline execution ARN.
const MaxARNLength = 2048

var (
	partitionPattern = regexp.MustCompile(`^aws(-[a-z]+)*$`)
	regionPattern    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	// The API's PipelineName pattern: letters and digits, single hyphens between.
	pipelineNamePattern = regexp.MustCompile(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$`)
	// Execution ids are 12 lowercase alphanumerics in every example the
	// documentation gives; the format is not specified, so accept a bounded
	// alphanumeric id rather than guessing the length.
	executionIDPattern = regexp.MustCompile(`^[a-zA-Z0-9]{1,64}$`)
)

// ParseExecutionARN parses and validates an execution ARN. Anything that is
// not a well-formed SageMaker pipeline execution ARN is an EInvalid error.
func ParseExecutionARN(s string) (ExecutionARN, error) {
	invalid := func(why string) (ExecutionARN, error) {
		return ExecutionARN{}, Errorf(EInvalid, "%q is not a pipeline execution ARN: %s", truncate(s, 120), why)
	}
	if len(s) > MaxARNLength {
		return invalid("longer than 2048 characters")
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return invalid("want arn:<partition>:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>")
	}
	a := ExecutionARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	switch {
	case !partitionPattern.MatchString(a.Partition):
		return invalid("unknown partition")
	case parts[2] != "sagemaker":
		return invalid("service is not sagemaker")
	case !regionPattern.MatchString(a.Region):
		return invalid("bad region")
	case !accountPattern.MatchString(a.Account):
		return invalid("account is not 12 digits")
	}
	resource := strings.Split(parts[5], "/")
	if len(resource) != 4 || resource[0] != "pipeline" || resource[2] != "execution" {
		return invalid("resource is not pipeline/<name>/execution/<id>")
	}
	a.Pipeline, a.ExecutionID = resource[1], resource[3]
	if err := ValidatePipelineName(a.Pipeline); err != nil {
		return invalid("bad pipeline name")
	}
	if !executionIDPattern.MatchString(a.ExecutionID) {
		return invalid("bad execution id")
	}
	return a, nil
}

// ValidatePipelineName checks a pipeline name against the API's pattern.
func ValidatePipelineName(name string) error {
	if !pipelineNamePattern.MatchString(name) {
		return Errorf(EInvalid, "%q is not a pipeline name: want 1-256 letters, digits and single hyphens", truncate(name, 120))
	}
	return nil
}

// String formats the ARN; ParseExecutionARN(a.String()) == a.
func (a ExecutionARN) String() string {
	return "arn:" + a.Partition + ":sagemaker:" + a.Region + ":" + a.Account +
		":pipeline/" + a.Pipeline + "/execution/" + a.ExecutionID
}

// PipelineARN is the ARN of the pipeline the execution belongs to.
func (a ExecutionARN) PipelineARN() string {
	return "arn:" + a.Partition + ":sagemaker:" + a.Region + ":" + a.Account + ":pipeline/" + a.Pipeline
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
