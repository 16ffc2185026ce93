package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stopcoord/stopcoord/client"
)

// stops answers GetStop with the scripted outputs in turn, repeating the
// last one.
type stops struct {
	outs  []*client.GetStopOutput
	calls int
}

func (s *stops) GetStop(_ context.Context, in *client.GetStopInput) (*client.GetStopOutput, error) {
	out := s.outs[min(s.calls, len(s.outs)-1)]
	s.calls++
	return out, nil
}

func stopAt(phase, outcome, status string, terminal bool) *client.GetStopOutput {
	return &client.GetStopOutput{Stop: client.Stop{ID: "stop-1", Phase: phase, Outcome: outcome}, Execution: client.Execution{Status: status, Terminal: terminal}}
}

func fast(o *client.StopWaiterOptions) { o.MinDelay, o.MaxDelay = time.Millisecond, 2*time.Millisecond }

func TestStopWaiter(t *testing.T) {
	running := stopAt(client.PhaseIssued, "", client.StatusStopping, false)
	tests := []struct {
		name      string
		outs      []*client.GetStopOutput
		wantCalls int
		wantErr   func(error) bool
	}{
		{"stopped", []*client.GetStopOutput{running, running, stopAt(client.PhaseClosed, client.StatusStopped, client.StatusStopped, true)}, 3,
			func(err error) bool { return err == nil }},
		{"terminal before the ledger closes the stop", []*client.GetStopOutput{running, stopAt(client.PhaseIssued, "", client.StatusStopped, true)}, 2,
			func(err error) bool { return err == nil }},
		{"failed", []*client.GetStopOutput{running, stopAt(client.PhaseClosed, client.StatusFailed, client.StatusFailed, true)}, 2,
			func(err error) bool {
				var ns *client.NotStoppedError
				return errors.As(err, &ns) && ns.Outcome == client.StatusFailed
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stops{outs: tt.outs}
			polled := 0
			out, err := client.NewStopWaiter(s, fast).WaitForOutput(context.Background(), &client.GetStopInput{StopID: "stop-1"}, time.Minute,
				func(o *client.StopWaiterOptions) { o.OnPoll = func(*client.GetStopOutput) { polled++ } })
			if !tt.wantErr(err) || s.calls != tt.wantCalls || polled != tt.wantCalls || out != tt.outs[len(tt.outs)-1] {
				t.Fatalf("err %v after %d calls (%d polls), last %+v", err, s.calls, polled, out)
			}
		})
	}
}

func TestStopWaiterTimesOut(t *testing.T) {
	s := &stops{outs: []*client.GetStopOutput{stopAt(client.PhaseIssued, "", client.StatusStopping, false)}}
	err := client.NewStopWaiter(s, fast).Wait(context.Background(), &client.GetStopInput{StopID: "stop-1"}, 20*time.Millisecond)
	if !errors.Is(err, client.ErrWaitTimeout) || s.calls < 2 {
		t.Fatalf("err %v after %d calls, want a timeout after polling", err, s.calls)
	}
}
