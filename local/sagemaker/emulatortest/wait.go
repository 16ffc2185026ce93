package emulatortest

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds. It has no deadline of its own: on a
// busy machine an execution may take far longer than on an idle one, and a
// fixed deadline turns that into a failure. It gives up only when the test
// binary's own deadline (go test -timeout) is near, failing with what, the
// last state cond described, instead of a bare timeout panic.
func WaitFor(t testing.TB, cond func() (ok bool, what string)) {
	t.Helper()
	deadline, hasDeadline := deadlineOf(t)
	for {
		ok, what := cond()
		if ok {
			return
		}
		if hasDeadline && time.Now().After(deadline) {
			t.Fatalf("gave up waiting as the test binary's deadline nears: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// deadlineOf is a little before the test binary's deadline, leaving time to
// report and clean up.
func deadlineOf(t testing.TB) (time.Time, bool) {
	d, ok := t.(interface{ Deadline() (time.Time, bool) })
	if !ok {
		return time.Time{}, false
	}
	end, has := d.Deadline()
	if !has {
		return time.Time{}, false
	}
	margin := min(time.Until(end)/10, 30*time.Second)
	return end.Add(-margin), true
}
