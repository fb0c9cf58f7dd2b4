// Package wait lets a test wait for a condition that another goroutine or
// process makes true: a number of captured messages, a campaign state, a
// server that answers. It checks the condition every Interval until it
// holds and fails the test, saying what it waited for, when the deadline
// passes first. The deadline only bounds a hang: it is never an assertion
// about speed.
//
// Import it from _test files and test helper packages only.
package wait

import (
	"strings"
	"testing"
	"time"
)

// Interval is how often For checks its condition.
const Interval = 20 * time.Millisecond

// For calls cond every Interval until it returns true. When timeout passes
// first it fails the test with "timed out after TIMEOUT waiting for WHAT",
// followed by what the dump functions return (a log, the last output), so
// that the failure says why.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool, dump ...func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			var extra []string
			for _, f := range dump {
				extra = append(extra, f())
			}
			msg := "timed out after " + timeout.String() + " waiting for " + what
			if len(extra) > 0 {
				msg += "\n" + strings.Join(extra, "\n")
			}
			t.Fatal(msg)
		}
		time.Sleep(Interval)
	}
}
