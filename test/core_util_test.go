package test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Helpers shared by the core system tests (core_*_test.go, crash_test.go).

const coreHost = "127.0.0.1"

// coreMessage is a minimal RFC 5322 message with CR LF line ends; the
// subject makes it findable in `bbsmail mail list`.
func coreMessage(from, to, subject string) string {
	return "From: <" + from + ">\r\nTo: <" + to + ">\r\nSubject: " + subject + "\r\n\r\nbody of " + subject + "\r\n"
}

// coreDeliver sends one message over a raw SMTP session on port 25 and
// fails the test unless every step is accepted.
func coreDeliver(t *testing.T, b *bbs, from, to, subject string) {
	t.Helper()
	coreDeliverText(t, b, from, to, coreMessage(from, to, subject))
}

// coreDeliverText is coreDeliver with the whole message text given.
func coreDeliverText(t *testing.T, b *bbs, from, to, text string) {
	t.Helper()
	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("MAIL FROM:<" + from + ">")
	c.expect("250 ")
	c.send("RCPT TO:<" + to + ">")
	c.expect("250 ")
	c.send("DATA")
	c.expect("354 ")
	c.send(strings.TrimSuffix(text, "\r\n") + "\r\n.")
	c.expect("250 ")
	c.send("QUIT")
	c.expect("221 ")
}

// coreSMTPReady dials the SMTP port and reads the greeting.
func coreSMTPReady(t *testing.T, b *bbs) *conn {
	t.Helper()
	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	return c
}

// coreHold opens n sessions on port that the server greets with ready
// (they stay open until the test ends). A refused attempt is retried:
// the connection the harness made to see the port open may still count
// against the limits for a moment after it closed.
func coreHold(t *testing.T, b *bbs, port, n int, ready string) []*conn {
	t.Helper()
	var held []*conn
	waitFor(t, 10*time.Second, fmt.Sprintf("%d sessions on port %d", n, port), func() bool {
		c := dial(t, b.addr(port))
		if !strings.HasPrefix(c.reply(), ready) {
			c.c.Close()
			return false
		}
		held = append(held, c)
		return len(held) == n
	})
	return held
}

// coreStartTx opens a session and sends EHLO and MAIL FROM.
func coreStartTx(t *testing.T, b *bbs, from string) *conn {
	t.Helper()
	c := coreSMTPReady(t, b)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("MAIL FROM:<" + from + ">")
	c.expect("250 ")
	return c
}

// coreMailList returns the rows of `bbsmail mail list ALIAS`, header
// line removed.
func coreMailList(b *bbs, alias string) []string {
	b.t.Helper()
	out := b.must("mail", "list", alias)
	var rows []string
	for i, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if i == 0 || strings.TrimSpace(l) == "" {
			continue
		}
		rows = append(rows, l)
	}
	return rows
}

// coreHasSubject reports whether one of the mail list rows shows subject
// as a whole column (the columns are separated by at least two spaces).
func coreHasSubject(rows []string, subject string) bool {
	for _, r := range rows {
		if strings.Contains(r, "  "+subject+"  ") {
			return true
		}
	}
	return false
}

// coreQueueList returns the output of `bbsmail queue list`.
func coreQueueList(b *bbs) string {
	b.t.Helper()
	return b.must("queue", "list")
}

// coreWrite writes a file of the test's BBS tree, creating directories.
func coreWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// coreEdit replaces old with new in a file of the test's tree and fails
// when old is not there, so a changed fixture can't silently void a test.
func coreEdit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	coreWrite(t, path, strings.Replace(string(data), old, new, 1))
}

// coreSignal sends sig to the running server.
func coreSignal(b *bbs, sig syscall.Signal) {
	b.t.Helper()
	b.mu.Lock()
	cmd := b.cmd
	b.mu.Unlock()
	if err := cmd.Process.Signal(sig); err != nil {
		b.t.Fatalf("signal %v: %v", sig, err)
	}
}

// coreExitCode waits until the server process has ended and returns its
// exit status.
func coreExitCode(b *bbs, limit time.Duration) int {
	b.t.Helper()
	waitFor(b.t, limit, "the server to exit", b.exited)
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cmd.ProcessState.ExitCode()
}

// coreRestart starts the server again on the same tree and ports (after
// stop or kill). The harness's start rewrites the same sbbs.ini and waits
// for the SMTP port, which is all a restart needs.
func coreRestart(b *bbs) {
	b.t.Helper()
	if !b.exited() {
		b.t.Fatal("coreRestart: the server is still running")
	}
	// start replaces the log; keep the previous run's for a failure report.
	prev := b.log.String()
	b.t.Cleanup(func() {
		if b.t.Failed() {
			b.t.Logf("server log before the restart:\n%s", prev)
		}
	})
	b.start()
}

// coreWaitLog waits until the server log contains s.
func coreWaitLog(b *bbs, s string) {
	b.t.Helper()
	waitFor(b.t, 10*time.Second, "the server log to contain "+s, func() bool { return b.logContains(s) })
}
