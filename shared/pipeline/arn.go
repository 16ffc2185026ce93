package pipeline

import "strings"

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

// The checks below are hand-written rather than regular expressions: they
// run on every request, and compiling patterns at package init would add to
// every cold start.

// validPartition: aws, aws-cn, aws-us-gov, aws-iso-b, ...
func validPartition(s string) bool {
	parts := strings.Split(s, "-")
	if parts[0] != "aws" {
		return false
	}
	for _, p := range parts[1:] {
		if p == "" || !all(p, isLower) {
			return false
		}
	}
	return true
}

// validRegion: two letters, one or more lowercase words, a number
// (us-east-1, us-gov-west-1, eu-central-2).
func validRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 || len(parts[0]) != 2 || !all(parts[0], isLower) || !all(parts[len(parts)-1], isDigit) || parts[len(parts)-1] == "" {
		return false
	}
	for _, p := range parts[1 : len(parts)-1] {
		if p == "" || !all(p, isLower) {
			return false
		}
	}
	return true
}

func validAccount(s string) bool { return len(s) == 12 && all(s, isDigit) }

// validPipelineName is the API's PipelineName pattern
// [a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}: letters and digits with hyphens
// between, starting and ending with a letter or digit, at most 256 chars.
func validPipelineName(s string) bool {
	if s == "" || len(s) > 256 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	return all(s, func(c byte) bool { return isAlnum(c) || c == '-' })
}

// validExecutionID: execution ids are 12 lowercase alphanumerics in every
// example the documentation gives; the format is not specified, so accept a
// bounded alphanumeric id rather than guessing the length.
func validExecutionID(s string) bool { return s != "" && len(s) <= 64 && all(s, isAlnum) }

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) || 'A' <= c && c <= 'Z' }

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
	case !validPartition(a.Partition):
		return invalid("unknown partition")
	case parts[2] != "sagemaker":
		return invalid("service is not sagemaker")
	case !validRegion(a.Region):
		return invalid("bad region")
	case !validAccount(a.Account):
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
	if !validExecutionID(a.ExecutionID) {
		return invalid("bad execution id")
	}
	return a, nil
}

// ValidatePipelineName checks a pipeline name against the API's pattern.
func ValidatePipelineName(name string) error {
	if !validPipelineName(name) {
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
