package ledger

import (
	"fmt"
	"time"

	"github.com/stopcoord/stopcoord/shared/pipeline"
)

// Sentinel outcomes of conditional writes. Each is a pipeline conflict, so
// the HTTP edge can map it, and each means nothing was written.
var (
	// ErrDuplicate: the same state or record is already there.
	ErrDuplicate = &pipeline.Error{Code: pipeline.EConflict, Message: "already recorded"}
	// ErrStale: a newer state is already recorded.
	ErrStale = &pipeline.Error{Code: pipeline.EConflict, Message: "a newer state is already recorded"}
	// ErrTerminal: the record has reached a terminal state and never leaves it.
	ErrTerminal = &pipeline.Error{Code: pipeline.EConflict, Message: "already in a terminal state"}
	// ErrNotFound: the record does not exist.
	ErrNotFound = &pipeline.Error{Code: pipeline.ENotFound, Message: "not found in the ledger"}
)

// AlreadyAnsweredError says a callback token was answered before, by whom
// and how.
type AlreadyAnsweredError struct {
	Token      string
	AnsweredBy string
	AnsweredAt time.Time
	Outcome    Outcome
}

func (e *AlreadyAnsweredError) Error() string {
	return fmt.Sprintf("callback token %s already answered (%s) by %s at %s",
		e.Token, e.Outcome, e.AnsweredBy, e.AnsweredAt.Format(time.RFC3339Nano))
}

// Unwrap lets pipeline.Code report a conflict.
func (e *AlreadyAnsweredError) Unwrap() error {
	return pipeline.Errorf(pipeline.EConflict, "callback token %s already answered", e.Token)
}

// ClaimedError says another worker holds the claim on a token.
type ClaimedError struct {
	Token      string
	ClaimedBy  string
	ClaimUntil time.Time
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("callback token %s claimed by %s until %s", e.Token, e.ClaimedBy, e.ClaimUntil.Format(time.RFC3339Nano))
}

// Unwrap lets pipeline.Code report a conflict.
func (e *ClaimedError) Unwrap() error {
	return pipeline.Errorf(pipeline.EConflict, "callback token %s is being answered by another worker", e.Token)
}
