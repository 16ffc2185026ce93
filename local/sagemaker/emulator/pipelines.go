package emulator

import (
	"context"
	"strings"
	"time"
)

// resolvePipelineName turns a PipelineNameOrArn into the pipeline name.
func resolvePipelineName(nameOrArn string) string {
	if strings.HasPrefix(nameOrArn, "arn:") {
		if i := strings.Index(nameOrArn, ":pipeline/"); i >= 0 {
			return nameOrArn[i+len(":pipeline/"):]
		}
	}
	return nameOrArn
}

// findPipeline looks a pipeline up by name or ARN. Names are matched
// case-insensitively because the ARN lower-cases them. Caller holds e.mu.
func (e *Emulator) findPipeline(nameOrArn string) (*pipeline, error) {
	name := resolvePipelineName(nameOrArn)
	p, ok := e.pipelines[strings.ToLower(name)]
	if !ok || (strings.HasPrefix(nameOrArn, "arn:") && !strings.EqualFold(p.arn, nameOrArn)) {
		return nil, errNotFound("Pipeline '%s' does not exist.", nameOrArn)
	}
	return p, nil
}

// Every request reaches an operation only after checkRequest held it to the
// service model (servicemodel.go), so the operations check only what the
// model cannot say.

func (e *Emulator) createPipeline(_ context.Context, in *createPipelineInput) (any, error) {
	doc, def, err := pipelineDefinition(in.PipelineDefinition, in.PipelineDefinitionS3Location, true)
	if err != nil {
		return nil, err
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if out, ok, err := e.replay("CreatePipeline", in.ClientRequestToken, in); ok || err != nil {
		return out, err
	}
	name := *in.PipelineName
	if _, exists := e.pipelines[strings.ToLower(name)]; exists {
		return nil, errValidation("Pipeline names must be unique within an AWS account and region. Pipeline with name (%s) already exists.", name)
	}
	if len(e.pipelines) >= e.opts.MaxPipelines {
		return nil, errLimit("The account-level service limit 'Maximum number of pipelines' is %d Pipelines.", e.opts.MaxPipelines)
	}
	now := e.now()
	p := &pipeline{
		name: name, arn: e.pipelineARN(name), displayName: deref(in.PipelineDisplayName, name),
		description: deref(in.PipelineDescription, ""), roleArn: *in.RoleArn,
		created: now, modified: now,
		versions: []*pipelineVersion{{id: 1, definitionDoc: doc, def: def, created: now}},
	}
	if in.ParallelismConfiguration != nil {
		p.parallelism = in.ParallelismConfiguration.MaxParallelExecutionSteps
	}
	e.pipelines[strings.ToLower(name)] = p
	out := &pipelineArnOutput{PipelineArn: p.arn}
	e.remember("CreatePipeline", in.ClientRequestToken, in, out)
	e.log.Info("pipeline created", "pipelineArn", p.arn, "steps", len(def.Steps))
	return out, nil
}

// pipelineDefinition reads the definition of CreatePipeline or
// UpdatePipeline. The S3 location is refused explicitly: the emulator has
// no S3 to read it from.
func pipelineDefinition(doc *string, s3 *s3Location, required bool) (string, *definition, error) {
	if s3 != nil {
		return "", nil, errValidation("PipelineDefinitionS3Location is not supported by the emulator; pass PipelineDefinition")
	}
	if doc == nil {
		if required {
			return "", nil, errValidation("Either PipelineDefinition or PipelineDefinitionS3Location must be specified.")
		}
		return "", nil, nil
	}
	def, err := parseDefinition(*doc)
	if err != nil {
		return "", nil, err
	}
	return *doc, def, nil
}

func (e *Emulator) describePipeline(_ context.Context, in *describePipelineInput) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.findPipeline(*in.PipelineName)
	if err != nil {
		return nil, err
	}
	v := p.latest()
	if in.PipelineVersionID != nil {
		if v = p.version(*in.PipelineVersionID); v == nil {
			return nil, errNotFound("Pipeline version %d of '%s' does not exist.", *in.PipelineVersionID, p.name)
		}
	}
	out := &describePipelineOutput{
		PipelineArn: p.arn, PipelineName: p.name, PipelineDisplayName: p.displayName,
		PipelineDefinition: v.definitionDoc, PipelineDescription: p.description, RoleArn: p.roleArn,
		PipelineStatus: "Active", CreationTime: epoch(p.created), LastModifiedTime: epoch(p.modified),
		LastRunTime: epoch(p.lastRun), PipelineVersionDisplayName: v.displayName,
		PipelineVersionDescription: v.description,
	}
	if p.parallelism != nil {
		out.ParallelismConfiguration = &parallelismConfiguration{MaxParallelExecutionSteps: p.parallelism}
	}
	return out, nil
}

// updatePipeline changes the pipeline and records a new version (with
// VersionOnDefinitionChange, only when the definition changed). Running
// executions keep the version they started with.
func (e *Emulator) updatePipeline(_ context.Context, in *updatePipelineInput) (any, error) {
	doc, def, err := pipelineDefinition(in.PipelineDefinition, in.PipelineDefinitionS3Location, false)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.findPipeline(*in.PipelineName)
	if err != nil {
		return nil, err
	}
	latest := p.latest()
	newVersion := !e.opts.Switches.VersionOnDefinitionChange || (def != nil && doc != latest.definitionDoc)
	if newVersion && len(p.versions) >= e.opts.MaxPipelineVersions {
		return nil, errConflict("Pipeline '%s' already has %d versions, the most the emulator keeps.", p.name, e.opts.MaxPipelineVersions)
	}
	now := e.now()
	if in.PipelineDisplayName != nil {
		p.displayName = *in.PipelineDisplayName
	}
	if in.PipelineDescription != nil {
		p.description = *in.PipelineDescription
	}
	if in.RoleArn != nil {
		p.roleArn = *in.RoleArn
	}
	if in.ParallelismConfiguration != nil {
		p.parallelism = in.ParallelismConfiguration.MaxParallelExecutionSteps
	}
	p.modified = now
	if newVersion {
		v := &pipelineVersion{id: latest.id + 1, definitionDoc: latest.definitionDoc, def: latest.def, created: now}
		if def != nil {
			v.definitionDoc, v.def = doc, def
		}
		p.versions = append(p.versions, v)
		e.log.Info("pipeline updated", "pipelineArn", p.arn, "pipelineVersionId", v.id)
	}
	return &pipelineVersionOutput{PipelineArn: p.arn, PipelineVersionID: p.latest().id}, nil
}

// deletePipeline removes a pipeline and its executions. Running executions
// block it: the model's documentation says to stop them first.
func (e *Emulator) deletePipeline(_ context.Context, in *deletePipelineInput) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if out, ok, err := e.replay("DeletePipeline", in.ClientRequestToken, in); ok || err != nil {
		return out, err
	}
	p, err := e.findPipeline(*in.PipelineName)
	if err != nil {
		return nil, err
	}
	for _, x := range e.executions {
		if x.pipe == p && !terminal(x.status) {
			return nil, errConflict("Pipeline '%s' has running executions; stop them before deleting it.", p.name)
		}
	}
	for key, x := range e.executions {
		if x.pipe == p {
			for _, s := range x.steps {
				delete(e.tokens, s.token)
			}
			delete(e.executions, key)
		}
	}
	for tok, ref := range e.tokens {
		if ref.x.pipe == p {
			delete(e.tokens, tok)
		}
	}
	delete(e.pipelines, strings.ToLower(p.name))
	out := &pipelineArnOutput{PipelineArn: p.arn}
	e.remember("DeletePipeline", in.ClientRequestToken, in, out)
	return out, nil
}

func (e *Emulator) listPipelines(_ context.Context, in *listPipelinesInput) (any, error) {
	byName := in.SortBy != nil && *in.SortBy == "Name"
	key := func(p pipelineSummary) string { return timeKey(time.Time(*p.CreationTime), p.PipelineArn) }
	if byName {
		key = func(p pipelineSummary) string { return p.PipelineName + "|" + p.PipelineArn }
	}
	desc := descending(in.SortOrder)

	e.mu.Lock()
	var items []pipelineSummary
	for _, p := range e.pipelines {
		if in.PipelineNamePrefix != nil && !strings.HasPrefix(strings.ToLower(p.name), strings.ToLower(*in.PipelineNamePrefix)) {
			continue
		}
		if !createdBetween(p.created, in.CreatedAfter, in.CreatedBefore) {
			continue
		}
		items = append(items, pipelineSummary{
			PipelineArn: p.arn, PipelineName: p.name, PipelineDisplayName: p.displayName,
			PipelineDescription: p.description, RoleArn: p.roleArn, CreationTime: epoch(p.created),
			LastModifiedTime: epoch(p.modified), LastExecutionTime: epoch(p.lastRun),
		})
	}
	e.mu.Unlock()

	sortItems(items, key, desc)
	filter := filterDigest("ListPipelines", in.PipelineNamePrefix, in.CreatedAfter, in.CreatedBefore, byName, desc)
	items, next, err := page(items, key, desc, in.NextToken, filter, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &listPipelinesOutput{PipelineSummaries: nonNil(items), NextToken: next}, nil
}

func deref(s *string, def string) string {
	if s == nil {
		return def
	}
	return *s
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
