package pipeline

import (
	"fmt"
	"time"
)

// Sentinel outcomes of the ledger's conditional writes. Each is a pipeline conflict, so
// the HTTP edge can map it, and each means nothing was written.
var (
	// ErrDuplicate: the same state or record is already there.
	ErrDuplicate = &Error{Code: EConflict, Message: "already recorded"}
	// ErrStale: a newer state is already recorded.
	ErrStale = &Error{Code: EConflict, Message: "a newer state is already recorded"}
	// ErrTerminal: the record has reached a terminal state and never leaves it.
	ErrTerminal = &Error{Code: EConflict, Message: "already in a terminal state"}
	// ErrNotFound: the record does not exist.
	ErrNotFound = &Error{Code: ENotFound, Message: "not found in the ledger"}
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
		TokenRef(e.Token), e.Outcome, e.AnsweredBy, e.AnsweredAt.Format(time.RFC3339Nano))
}

// Unwrap lets Code report a conflict.
func (e *AlreadyAnsweredError) Unwrap() error {
	return Errorf(EConflict, "callback token %s already answered", TokenRef(e.Token))
}

// ClaimedError says another worker holds the claim on a token.
type ClaimedError struct {
	Token      string
	ClaimedBy  string
	ClaimUntil time.Time
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("callback token %s claimed by %s until %s", TokenRef(e.Token), e.ClaimedBy, e.ClaimUntil.Format(time.RFC3339Nano))
}

// Unwrap lets Code report a conflict.
func (e *ClaimedError) Unwrap() error {
	return Errorf(EConflict, "callback token %s is being answered by another worker", TokenRef(e.Token))
}
