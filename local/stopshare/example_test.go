package stopshare_test

import (
	"fmt"
	"time"

	"github.com/stopcoord/stopcoord/local/sagemaker/emulator"
	"github.com/stopcoord/stopcoord/local/stopshare"
	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// A step's stop: requested at 0, at SageMaker at 10 ms, its Stopping
// message in the queue at 40 ms and handed to the callback function at
// 45 ms, one cleaner from 60 to 90 ms, the token answered at 120 ms.
func Example() {
	t0 := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	in := stopshare.Inputs{
		Steps:     []string{"Train"},
		Requested: t0, StopReceived: at(10),
		Sent:      map[string]time.Time{"TokenTRN01": at(40)},
		Delivered: map[string]time.Time{"TokenTRN01": at(45)},
		Answers:   []emulator.Answer{{Token: "TokenTRN01", StepName: "Train"}},
		Tokens:    []pipeline.Token{{Token: "TokenTRN01", StepName: "Train", State: pipeline.TokenAnswered, AnsweredAt: at(120)}},
		Cleanups:  []pipeline.Cleanup{{Token: "TokenTRN01", History: []pipeline.CleanupAttempt{{At: at(60), Duration: 30 * time.Millisecond}}}},
	}
	p := stopshare.Breakdown(in)[0]
	fmt.Println(p.Total, "=", p.SageMaker, "SageMaker +", p.SQS, "SQS +", p.Cleaners, "cleaners +", p.Overhead, "stopcoord")
	s := stopshare.Summarize([]stopshare.Path{p, {Step: "Other", Missing: stopshare.MissingSent}})
	fmt.Println(s.Measured, "measured,", s.Unmeasured, "not:", s.TopReason)
	// Output:
	// 120ms = 30ms SageMaker + 5ms SQS + 30ms cleaners + 55ms stopcoord
	// 1 measured, 1 not: no Stopping message was seen
}
