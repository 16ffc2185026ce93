package coordinator

// Seams for the package's tests: they watch the stops and token answers
// status events and the sweeper would start, instead of starting them.

// ReplaceStopper makes s start its stops through f.
func ReplaceStopper(s *Service, f stopStarter) { s.stopper = f }

// ReplaceAnswerer makes s unblock callback tokens through f.
func ReplaceAnswerer(s *Service, f tokenUnblocker) { s.answerer = f }
