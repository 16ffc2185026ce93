package coordinator

import (
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// DefaultLambdaTimeout is a Lambda step's timeout when the definition does
// not give one (SageMaker's default).
const DefaultLambdaTimeout = 120 * time.Second

// Coordinator runs the use cases.
type Coordinator struct {
	ledger       Ledger
	sm           SageMaker
	queue        QueueSender
	stopQueueURL string
	access       pipeline.AllowList
	scope        pipeline.CleanupScope
	tokens       *tokenPath
	now          func() time.Time
}

// Deps are the coordinator's collaborators. Queue and StopQueueURL are only
// needed for bulk stops.
type Deps struct {
	Ledger       Ledger
	SageMaker    SageMaker
	Queue        QueueSender
	StopQueueURL string
	Access       pipeline.AllowList
	// Scope is what workers may register for cleanup; the zero scope
	// allows nothing.
	Scope pipeline.CleanupScope
	Clock func() time.Time
}

// New returns a Coordinator.
func New(d Deps) *Coordinator {
	now := d.Clock
	if now == nil {
		now = time.Now
	}
	return &Coordinator{ledger: d.Ledger, sm: d.SageMaker, queue: d.Queue, stopQueueURL: d.StopQueueURL, access: d.Access, scope: d.Scope, now: now,
		// A force stop cleans nothing: the lease only covers the answer.
		tokens: &tokenPath{ledger: d.Ledger, sm: d.SageMaker, cleanerTimeout: DefaultCleanerTimeout, now: now}}
}
