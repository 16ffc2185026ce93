package pipeline

import (
	"path"
	"slices"
)

// AllowList says which executions stopcoord may act on: those of the listed
// accounts whose pipeline name matches one of the patterns. No patterns
// means every pipeline of those accounts.
type AllowList struct {
	Accounts  []string
	Pipelines []string // name patterns, see MatchesName
}

// Check returns an EUnauthorized error for an execution outside the list.
func (a AllowList) Check(arn ExecutionARN) error {
	if !slices.Contains(a.Accounts, arn.Account) {
		return Errorf(EUnauthorized, "account %s is not one stopcoord may act on", arn.Account)
	}
	return a.CheckPipeline(arn.Pipeline)
}

// CheckPipeline returns an EUnauthorized error for a pipeline name outside
// the list.
func (a AllowList) CheckPipeline(name string) error {
	if len(a.Pipelines) == 0 || MatchesName(a.Pipelines, name) {
		return nil
	}
	return Errorf(EUnauthorized, "pipeline %s is not one stopcoord may act on", name)
}

// Validate reports malformed patterns and account ids, for start-up.
func (a AllowList) Validate() []error {
	var errs []error
	for _, acct := range a.Accounts {
		if !IsAccountID(acct) {
			errs = append(errs, Errorf(EInvalid, "allowed account %q is not 12 digits", acct))
		}
	}
	for _, p := range a.Pipelines {
		if err := ValidateNamePattern(p); err != nil {
			errs = append(errs, Errorf(EInvalid, "allowed pipeline pattern %q is malformed", p))
		}
	}
	return errs
}

// MatchesName reports whether a pipeline name matches one of the patterns.
// Patterns use path.Match syntax ("train-*", "dev-?"); a pipeline name has
// no "/", so "*" matches any run of characters. The allow-list and the
// per-pipeline policies match names by this one rule.
func MatchesName(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// ValidateNamePattern returns an error for a malformed name pattern.
func ValidateNamePattern(p string) error {
	_, err := path.Match(p, "")
	return err
}

// IsAccountID reports whether s is an AWS account id: 12 digits.
func IsAccountID(s string) bool { return validAccount(s) }
