package testkit

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds, failing the test with what was awaited
// once limit has passed. Tests wait for a condition this way instead of
// sleeping: the limit only bounds a hang, it asserts no timing.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
