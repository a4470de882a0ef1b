// Package testkit holds what the project's tests share: a log buffer that
// server goroutines and the test may use at once, self-signed
// certificates for loopback TLS peers, a listener of in-memory pipes for
// session fuzzing, an in-process DNS server, WaitFor, the one way a test
// waits for a condition (with a limit, never a blind sleep), and the
// dialog runner: one transcript syntax (docs/testing.md, "Dialog
// transcripts") for the SMTP and POP3 dialogs, to which each package adds
// its header knobs and its own directives, and a recorder for the login
// results servers report to their Observer.
//
// Guard stands in for the login guard smtpd and pop3d ask about bans,
// throttles and request rates, and records what they asked and told it.
//
// Only tests import it (a test in the repository root checks that); of
// the project it imports only envelope, the shared leaf types.
package testkit
