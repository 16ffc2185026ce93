package startup

import (
	"github.com/stopcoord/stopcoord/shared/pipeline"
	"github.com/stopcoord/stopcoord/shared/policy"
	"github.com/stopcoord/stopcoord/shared/settings"
)

// PoliciesFromEnv reads the per-pipeline policies and the allow-list for a
// function's start-up, collecting problems in env. The allowed pipelines
// come from one place only: STOPCOORD_ALLOWED_PIPELINES or the policies'
// allowedPipelines.
func PoliciesFromEnv(env *settings.Env) (*policy.Set, pipeline.AllowList) {
	set, err := policy.Parse([]byte(env.Optional(settings.Policies, "")))
	env.Check(err == nil, "%s: %v", settings.Policies, err)
	if set == nil {
		set = &policy.Set{}
	}
	access := AccessFromEnv(env)
	if len(set.AllowedPipelines()) > 0 {
		env.Check(len(access.Pipelines) == 0, "%s and allowedPipelines in %s are both set: set the allowed pipelines in one place", settings.AllowedPipelines, settings.Policies)
		access.Pipelines = set.AllowedPipelines()
		for _, err := range access.Validate() {
			env.Check(false, "allowedPipelines in %s: %v", settings.Policies, err)
		}
	}
	return set, access
}

// AccessFromEnv reads the allow-list: the accounts (required) and the
// pipeline-name patterns (none means every pipeline of those accounts).
func AccessFromEnv(env *settings.Env) pipeline.AllowList {
	access := pipeline.AllowList{Accounts: env.List(settings.AllowedAccounts), Pipelines: env.List(settings.AllowedPipelines)}
	env.Check(len(access.Accounts) > 0, "%s is required: the accounts whose executions stopcoord may act on", settings.AllowedAccounts)
	for _, err := range access.Validate() {
		env.Check(false, "%s/%s: %v", settings.AllowedAccounts, settings.AllowedPipelines, err)
	}
	return access
}

// ScopeFromEnv reads the cleanup scope: what the cleaners, the worker
// hand-off and registrations may act on. Unset is the empty scope, which
// allows nothing.
func ScopeFromEnv(env *settings.Env) pipeline.CleanupScope {
	scope, err := pipeline.ParseCleanupScope(env.Optional(settings.CleanupScope, ""), pipeline.ScopeKinds())
	env.Check(err == nil, "%s: %v", settings.CleanupScope, err)
	return scope
}
