package client

import (
	"fmt"
	"strings"
)

// ExecutionRef names one pipeline execution: by its ARN, or by its
// pipeline's name and its id ("train/p4jn9xou8a8s"), which the API
// resolves in its own account and region.
type ExecutionRef struct {
	ARN      string // empty when named by pipeline and id
	Account  string // from the ARN; empty otherwise
	Pipeline string
	ID       string
}

// ParseExecution reads an execution ARN
// (arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>) or
// "<pipeline>/<execution id>".
func ParseExecution(s string) (ExecutionRef, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "arn:") {
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[2] != "sagemaker" {
			return ExecutionRef{}, fmt.Errorf("%q is not a pipeline execution ARN", s)
		}
		res := strings.Split(parts[5], "/")
		if len(res) != 4 || res[0] != "pipeline" || res[2] != "execution" || res[1] == "" || res[3] == "" {
			return ExecutionRef{}, fmt.Errorf("%q is not a pipeline execution ARN: want ...:pipeline/<name>/execution/<id>", s)
		}
		return ExecutionRef{ARN: s, Account: parts[4], Pipeline: res[1], ID: res[3]}, nil
	}
	name, id, ok := strings.Cut(s, "/")
	if !ok || name == "" || id == "" || strings.Contains(id, "/") {
		return ExecutionRef{}, fmt.Errorf("%q names no execution: want an execution ARN or <pipeline>/<execution id>", s)
	}
	return ExecutionRef{Pipeline: name, ID: id}, nil
}

// String is the ARN when known, else "<pipeline>/<id>".
func (r ExecutionRef) String() string {
	if r.ARN != "" {
		return r.ARN
	}
	return r.Pipeline + "/" + r.ID
}
