package procs

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// SlowdownEnv names the one factor that stretches every wait for the local
// parts: readiness of a server, and the deadlines tests keep as a last
// resort against a hang. A slow or busy machine (CI) raises it, e.g.
// STOPCOORD_TEST_SLOWDOWN=3; nothing else has to change.
const SlowdownEnv = "STOPCOORD_TEST_SLOWDOWN"

// Slowdown is the factor from SlowdownEnv: 1 when unset, never below 1. A
// value that is not a number is reported by CheckSlowdown and treated as 1.
func Slowdown() float64 {
	f, err := parseSlowdown(os.Getenv(SlowdownEnv))
	if err != nil {
		return 1
	}
	return f
}

// CheckSlowdown reports a SlowdownEnv value that is not a number of 1 or
// more, so a typo in CI is an error rather than a silent 1.
func CheckSlowdown() error {
	_, err := parseSlowdown(os.Getenv(SlowdownEnv))
	return err
}

func parseSlowdown(v string) (float64, error) {
	if v == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 {
		return 1, fmt.Errorf("%s=%q: want a number of 1 or more", SlowdownEnv, v)
	}
	return f, nil
}

// Scaled stretches a deadline by Slowdown().
func Scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * Slowdown())
}
