package coordinator

import (
	"path"
	"slices"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// AllowList says which executions stopcoord may act on: those of the listed
// accounts whose pipeline name matches one of the patterns (path.Match
// syntax, "train-*"). No patterns means every pipeline of those accounts.
type AllowList struct {
	Accounts  []string
	Pipelines []string
}

// Check returns an EUnauthorized error for an execution outside the list.
func (a AllowList) Check(arn pipeline.ExecutionARN) error {
	if !slices.Contains(a.Accounts, arn.Account) {
		return pipeline.Errorf(pipeline.EUnauthorized, "account %s is not one stopcoord may act on", arn.Account)
	}
	return a.CheckPipeline(arn.Pipeline)
}

// CheckPipeline returns an EUnauthorized error for a pipeline name outside
// the list.
func (a AllowList) CheckPipeline(name string) error {
	if len(a.Pipelines) == 0 {
		return nil
	}
	for _, p := range a.Pipelines {
		if ok, _ := path.Match(p, name); ok {
			return nil
		}
	}
	return pipeline.Errorf(pipeline.EUnauthorized, "pipeline %s is not one stopcoord may act on", name)
}

// Validate reports malformed patterns and account ids, for start-up.
func (a AllowList) Validate() []error {
	var errs []error
	for _, acct := range a.Accounts {
		if len(acct) != 12 || !isDigits(acct) {
			errs = append(errs, pipeline.Errorf(pipeline.EInvalid, "allowed account %q is not 12 digits", acct))
		}
	}
	for _, p := range a.Pipelines {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, pipeline.Errorf(pipeline.EInvalid, "allowed pipeline pattern %q is malformed", p))
		}
	}
	return errs
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
