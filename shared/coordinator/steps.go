package coordinator

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// listSteps is the one reader of an execution's steps: every started step,
// all pages. The callback message carries no step name; only the steps'
// metadata maps a token to its step.
func listSteps(ctx context.Context, sm sagemaker.ListPipelineExecutionStepsAPIClient, arn pipeline.ExecutionARN) ([]smtypes.PipelineExecutionStep, error) {
	var steps []smtypes.PipelineExecutionStep
	p := sagemaker.NewListPipelineExecutionStepsPaginator(sm, &sagemaker.ListPipelineExecutionStepsInput{PipelineExecutionArn: aws.String(arn.String()), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fromSageMaker("list steps of", arn.String(), err)
		}
		steps = append(steps, page.PipelineExecutionSteps...)
	}
	return steps, nil
}

// callbackStep is a callback step as ListPipelineExecutionSteps shows it.
type callbackStep struct {
	name    string
	token   string // the token in its metadata: the first one SageMaker issued
	status  pipeline.StepStatus
	started time.Time
}

// callbackSteps picks the callback steps out of a listing.
func callbackSteps(steps []smtypes.PipelineExecutionStep) []callbackStep {
	var out []callbackStep
	for _, s := range steps {
		if d := stepMetadata(s.Metadata); d.kind == pipeline.KindCallback && d.callbackToken != "" {
			out = append(out, callbackStep{name: aws.ToString(s.StepName), token: d.callbackToken, status: pipeline.StepStatus(s.StepStatus), started: aws.ToTime(s.StartTime)})
		}
	}
	return out
}

// waitsForAnswer is the one rule for an open callback: SageMaker still
// waits on the step (it has not ended) and the ledger has no answer for
// its token. The view, force stops and the sweeper all use it.
func waitsForAnswer(step pipeline.StepStatus, token pipeline.TokenState) bool {
	return !step.Terminal() && token != pipeline.TokenAnswered
}

// openCallback is a callback step still waiting for its answer, with the
// ledger's record of its token when there is one.
type openCallback struct {
	step   callbackStep
	record *pipeline.Token
}

// openCallbacks lists the callback steps that wait for an answer.
func openCallbacks(steps []callbackStep, tokens []pipeline.Token) []openCallback {
	var open []openCallback
	for _, s := range steps {
		rec := tokenIn(tokens, s.token)
		state := pipeline.TokenOpen
		if rec != nil {
			state = rec.State
		}
		if waitsForAnswer(s.status, state) {
			open = append(open, openCallback{step: s, record: rec})
		}
	}
	return open
}

// stepOf finds the callback step that holds the token.
func stepOf(steps []callbackStep, token string) (callbackStep, bool) {
	for _, s := range steps {
		if s.token == token {
			return s, true
		}
	}
	return callbackStep{}, false
}

// tokenIn finds a token's record among the ledger's.
func tokenIn(tokens []pipeline.Token, token string) *pipeline.Token {
	for i := range tokens {
		if tokens[i].Token == token {
			return &tokens[i]
		}
	}
	return nil
}
