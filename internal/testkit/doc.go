// Package testkit holds what the project's tests share: a log buffer that
// server goroutines and the test may use at once, self-signed
// certificates for loopback TLS peers, a listener of in-memory pipes for
// session fuzzing, an in-process DNS server, and a recorder for the
// login results servers report to their Observer.
//
// Only tests import it (a test in the repository root checks that); it
// imports nothing of the project.
package testkit
