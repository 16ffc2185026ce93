package lambdastep_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	"github.com/stopcoord/stopcoord/shared/lambdastep"
)

// statusSequence answers each call with the next status, then the last.
type statusSequence struct {
	statuses []types.PipelineExecutionStatus
	calls    atomic.Int64
	err      error
}

func (s *statusSequence) DescribePipelineExecution(context.Context, *sagemaker.DescribePipelineExecutionInput, ...func(*sagemaker.Options)) (*sagemaker.DescribePipelineExecutionOutput, error) {
	n := int(s.calls.Add(1)) - 1
	if s.err != nil {
		return nil, s.err
	}
	return &sagemaker.DescribePipelineExecutionOutput{PipelineExecutionStatus: s.statuses[min(n, len(s.statuses)-1)]}, nil
}

func TestStoppingIsCachedForTheInterval(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []types.PipelineExecutionStatus
		err       error
		want      bool
		wantErr   bool
		wantCalls int64
	}{
		{"executing, asked once per interval", []types.PipelineExecutionStatus{"Executing"}, nil, false, false, 1},
		{"stopping", []types.PipelineExecutionStatus{"Stopping"}, nil, true, false, 1},
		{"ended counts as stopping", []types.PipelineExecutionStatus{"Failed"}, nil, true, false, 1},
		{"errors are not cached", nil, errors.New("throttled"), false, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sm := &statusSequence{statuses: tt.statuses, err: tt.err}
			c := lambdastep.NewChecker(sm, "arn", time.Hour)
			for range 3 {
				got, err := c.Stopping(context.Background())
				if got != tt.want || (err != nil) != tt.wantErr {
					t.Fatalf("Stopping = %v, %v; want %v, error %v", got, err, tt.want, tt.wantErr)
				}
			}
			if n := sm.calls.Load(); n != tt.wantCalls {
				t.Fatalf("%d DescribePipelineExecution calls, want %d", n, tt.wantCalls)
			}
		})
	}
}

func TestWatchCancelsWhenTheExecutionStops(t *testing.T) {
	sm := &statusSequence{statuses: []types.PipelineExecutionStatus{"Executing", "Executing", "Stopping"}}
	ctx, cancel := lambdastep.Watch(context.Background(), sm, "arn", 5*time.Millisecond)
	defer cancel()
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the watch never noticed the stop")
	}
	if !errors.Is(context.Cause(ctx), lambdastep.ErrStopping) || sm.calls.Load() != 3 {
		t.Fatalf("cause %v after %d checks, want ErrStopping after 3", context.Cause(ctx), sm.calls.Load())
	}
}
