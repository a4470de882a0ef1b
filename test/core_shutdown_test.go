package test

import (
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM stops the server gracefully: it stops accepting at once, lets a
// client in the middle of a message finish it (250, and the message is
// kept), ends an idle POP3 session without carrying out its DELE, exits
// with status 0 and leaves a mailbase that the command line and the next
// server open cleanly.
func TestCoreGracefulShutdown(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["MaxInactivity"] = "5s" // bounds the shutdown grace period
	b.start()
	b.addUser("Digital Man", "Stop-Pass-1")
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "kept across the restart")

	pop := dial(t, b.addr(b.ports.POP3))
	pop.expect("+OK ")
	pop.send("USER Digital Man")
	pop.expect("+OK ")
	pop.send("PASS Stop-Pass-1")
	pop.expect("+OK ")
	pop.send("DELE 1")
	pop.expect("+OK ")

	smtp := coreStartTx(t, b, "joe@example.org")
	smtp.send("RCPT TO:<digital.man@bbs.test>")
	smtp.expect("250 ")

	coreSignal(b, syscall.SIGTERM)
	coreWaitLog(b, "shutting down")
	waitFor(t, 10*time.Second, "the SMTP port to stop accepting", func() bool {
		c, err := net.DialTimeout("tcp", b.addr(b.ports.SMTP), time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})

	smtp.send("DATA")
	smtp.expect("354 ")
	smtp.send(strings.TrimSuffix(coreMessage("joe@example.org", "digital.man@bbs.test", "finished during shutdown"), "\r\n") + "\r\n.")
	smtp.expect("250 ")
	smtp.send("QUIT")
	smtp.expect("221 ")

	if code := coreExitCode(b, 30*time.Second); code != 0 {
		t.Fatalf("the server exited with %d after SIGTERM", code)
	}
	// The idle POP3 client is told why (or simply disconnected).
	_ = pop.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, err := io.ReadAll(pop.r); err != nil || (len(rest) > 0 && !strings.HasPrefix(string(rest), "-ERR ")) {
		t.Errorf("the idle POP3 session at shutdown: read %q, %v; want -ERR or a close", rest, err)
	}
	if !b.logContains("Mail Server terminated") {
		t.Error(`the log does not end with "Mail Server terminated"`)
	}

	rows := coreMailList(b, "Digital Man") // the mailbase opened by the command line itself
	for _, s := range []string{"kept across the restart", "finished during shutdown"} {
		if !coreHasSubject(rows, s) {
			t.Errorf("%q is missing after the shutdown:\n%s", s, strings.Join(rows, "\n"))
		}
	}
	coreRestart(b)
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Digital Man", "Stop-Pass-1", "2")
}
