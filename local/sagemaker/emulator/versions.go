package emulator

import (
	"context"
	"fmt"
	"strings"
)

// listPipelineVersions lists a pipeline's versions, newest first unless
// SortOrder says Ascending.
func (e *Emulator) listPipelineVersions(_ context.Context, in *listPipelineVersionsInput) (any, error) {
	e.mu.Lock()
	p, err := e.findPipeline(*in.PipelineName)
	if err != nil {
		e.mu.Unlock()
		return nil, err
	}
	var items []pipelineVersionSummary
	for _, v := range p.versions {
		if !createdBetween(v.created, in.CreatedAfter, in.CreatedBefore) {
			continue
		}
		items = append(items, pipelineVersionSummary{
			PipelineArn: p.arn, PipelineVersionID: v.id, CreationTime: epoch(v.created),
			PipelineVersionDescription: v.description, PipelineVersionDisplayName: v.displayName,
			LastExecutionPipelineExecutionArn: v.lastExecutionArn,
		})
	}
	arn := p.arn
	e.mu.Unlock()

	desc := descending(in.SortOrder)
	key := func(s pipelineVersionSummary) string { return fmt.Sprintf("%020d", s.PipelineVersionID) }
	sortItems(items, key, desc)
	filter := filterDigest("ListPipelineVersions", arn, in.CreatedAfter, in.CreatedBefore, desc)
	items, next, err := page(items, key, desc, in.NextToken, filter, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return &listPipelineVersionsOutput{PipelineVersionSummaries: nonNil(items), NextToken: next}, nil
}

// updatePipelineVersion names or describes one version. The pipeline is
// named by its ARN only, as the model's PipelineArn member says.
func (e *Emulator) updatePipelineVersion(_ context.Context, in *updatePipelineVersionInput) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, err := e.findPipeline(*in.PipelineArn)
	if err != nil || !strings.EqualFold(p.arn, *in.PipelineArn) {
		return nil, errNotFound("Pipeline '%s' does not exist.", *in.PipelineArn)
	}
	v := p.version(*in.PipelineVersionID)
	if v == nil {
		return nil, errNotFound("Pipeline version %d of '%s' does not exist.", *in.PipelineVersionID, p.name)
	}
	if in.PipelineVersionDisplayName != nil {
		v.displayName = *in.PipelineVersionDisplayName
	}
	if in.PipelineVersionDescription != nil {
		v.description = *in.PipelineVersionDescription
	}
	return &pipelineVersionOutput{PipelineArn: p.arn, PipelineVersionID: v.id}, nil
}
