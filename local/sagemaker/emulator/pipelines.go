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

func (e *Emulator) createPipeline(_ context.Context, in *createPipelineInput) (any, error) {
	var v violations
	if v.required("pipelineName", in.PipelineName != nil) {
		v.str("pipelineName", in.PipelineName, 1, 256, patPipelineName)
	}
	v.str("pipelineDisplayName", in.PipelineDisplayName, 1, 256, patPipelineName)
	v.str("pipelineDefinition", in.PipelineDefinition, 1, 1048576, "")
	v.str("pipelineDescription", in.PipelineDescription, 0, 3072, "")
	v.clientRequestToken("clientRequestToken", in.ClientRequestToken, true)
	if v.required("roleArn", in.RoleArn != nil) {
		v.str("roleArn", in.RoleArn, 20, 2048, patRoleArn)
	}
	v.listLen("tags", len(in.Tags), 50)
	for _, t := range in.Tags {
		if v.required("tags.member.key", t.Key != nil) {
			v.str("tags.member.key", t.Key, 1, 128, patTag)
		}
		if v.required("tags.member.value", t.Value != nil) {
			v.str("tags.member.value", t.Value, 0, 256, patTag)
		}
	}
	if pc := in.ParallelismConfiguration; pc != nil && v.required("parallelismConfiguration.maxParallelExecutionSteps", pc.MaxParallelExecutionSteps != nil) {
		v.intRange("parallelismConfiguration.maxParallelExecutionSteps", pc.MaxParallelExecutionSteps, 1, 0)
	}
	if s3 := in.PipelineDefinitionS3Location; s3 != nil {
		if v.required("pipelineDefinitionS3Location.bucket", s3.Bucket != nil) {
			v.str("pipelineDefinitionS3Location.bucket", s3.Bucket, 3, 63, patBucket)
		}
		if v.required("pipelineDefinitionS3Location.objectKey", s3.ObjectKey != nil) {
			v.str("pipelineDefinitionS3Location.objectKey", s3.ObjectKey, 1, 1024, "")
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if in.PipelineDefinition == nil {
		if in.PipelineDefinitionS3Location != nil {
			return nil, errValidation("PipelineDefinitionS3Location is not supported by the emulator; pass PipelineDefinition")
		}
		return nil, errValidation("Either PipelineDefinition or PipelineDefinitionS3Location must be specified.")
	}
	def, err := parseDefinition(*in.PipelineDefinition)
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
		definitionDoc: *in.PipelineDefinition, def: def, created: now, modified: now,
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

func (e *Emulator) describePipeline(_ context.Context, in *describePipelineInput) (any, error) {
	var v violations
	if v.required("pipelineName", in.PipelineName != nil) {
		v.str("pipelineName", in.PipelineName, 1, 2048, patPipelineNameOrArn)
	}
	v.intRange("pipelineVersionId", in.PipelineVersionID, 1, 0)
	if err := v.err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.findPipeline(*in.PipelineName)
	if err != nil {
		return nil, err
	}
	if in.PipelineVersionID != nil && *in.PipelineVersionID != 1 {
		return nil, errNotFound("Pipeline version %d of '%s' does not exist.", *in.PipelineVersionID, p.name)
	}
	out := &describePipelineOutput{
		PipelineArn: p.arn, PipelineName: p.name, PipelineDisplayName: p.displayName,
		PipelineDefinition: p.definitionDoc, PipelineDescription: p.description, RoleArn: p.roleArn,
		PipelineStatus: "Active", CreationTime: epoch(p.created), LastModifiedTime: epoch(p.modified),
		LastRunTime: epoch(p.lastRun),
	}
	if p.parallelism != nil {
		out.ParallelismConfiguration = &parallelismConfiguration{MaxParallelExecutionSteps: p.parallelism}
	}
	return out, nil
}

// deletePipeline removes a pipeline and its executions. Running executions
// block it: the model's documentation says to stop them first.
func (e *Emulator) deletePipeline(_ context.Context, in *deletePipelineInput) (any, error) {
	var v violations
	if v.required("pipelineName", in.PipelineName != nil) {
		v.str("pipelineName", in.PipelineName, 1, 256, patPipelineName)
	}
	v.clientRequestToken("clientRequestToken", in.ClientRequestToken, true)
	if err := v.err(); err != nil {
		return nil, err
	}
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
	var v violations
	v.str("pipelineNamePrefix", in.PipelineNamePrefix, 1, 256, patPipelineName)
	v.enum("sortBy", in.SortBy, "Name", "CreationTime")
	v.sortOrder(in.SortOrder)
	v.pagination(in.NextToken, in.MaxResults)
	if err := v.err(); err != nil {
		return nil, err
	}
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
