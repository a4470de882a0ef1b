package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// mailprocBBS is a test tree whose mailproc.ini runs the processors in
// testdata/mailproc: a native one that takes mail for "archive", a native
// one that stamps every message through the new-message file, and a
// JavaScript one that refuses a pest with two reply lines.
func mailprocBBS(t *testing.T) *bbs {
	t.Helper()
	b := newBBS(t)
	for _, f := range []string{"archive.sh", "stamp.sh"} {
		src, err := os.ReadFile(filepath.Join("testdata", "mailproc", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(b.root, "exec", f), src, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ini, err := os.ReadFile(filepath.Join("testdata", "mailproc", "mailproc.ini"))
	if err != nil {
		t.Fatal(err)
	}
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), string(ini))
	b.start()
	b.addUser("Digital Man", "Proc-Pass-1")
	return b
}

// External mail processors from mailproc.ini run on mail received over
// SMTP (Python's smtplib): a PassThru=false processor takes mail for a
// name that is no user, a processor's new-message file replaces the
// message, and a processor's error file is the client's multi-line 554
// with nothing stored.
func TestMailprocNativeAndJavaScript(t *testing.T) {
	t.Parallel()
	b := mailprocBBS(t)

	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "reader@example.org", to: []string{"archive@bbs.test"}, subject: "keep this one"})
	archived, err := os.ReadFile(filepath.Join(b.root, "data", "archived.msg"))
	if err != nil {
		t.Fatalf("the archiver did not run: %v", err)
	}
	if !strings.Contains(string(archived), "Subject: keep this one\r\n") || strings.Contains(string(archived), "Received:") {
		t.Errorf("the archiver got %q, want the message as received without the trace", archived)
	}
	if rows := b.routingMailbox("Digital Man"); len(rows) != 0 {
		t.Errorf("mail taken by the archiver was also stored: %q", rows)
	}

	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "reader@example.org", to: []string{"digital.man@bbs.test"}, subject: "stamp me"})
	row, ok := routingRowWith(b.routingMailbox("Digital Man"), "stamp me")
	if !ok {
		t.Fatal("the stamped message was not stored")
	}
	text := b.must("mail", "read", "Digital Man", routingFields(row)[0])
	if !strings.Contains(text, "X-Stamped: by stamp.sh") || !strings.Contains(text, "Received: from") {
		t.Errorf("stored message lacks the processor's header or the trace:\n%s", text)
	}

	out := b.routingSend(routingMsg{port: b.ports.SMTP, from: "pest@example.org", to: []string{"digital.man@bbs.test"}, subject: "let me in"})
	if !strings.HasPrefix(out, "DATA-REFUSED 554") || !strings.Contains(out, "No mail from you.") || !strings.Contains(out, "Ask the sysop why.") {
		t.Errorf("the pest got %q, want a 554 with both lines of the processor's error file", out)
	}
	if _, ok := routingRowWith(b.routingMailbox("Digital Man"), "let me in"); ok {
		t.Error("the refused message was stored")
	}
	if left, _ := filepath.Glob(filepath.Join(b.root, "temp", "SBBS_SMTP.*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %q", left)
	}
}

// Editing mailproc.ini takes effect without a restart: the server
// recycles and the next message meets the new set of processors.
func TestMailprocReloadOnEdit(t *testing.T) {
	t.Parallel()
	b := mailprocBBS(t)
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "reader@example.org", to: []string{"digital.man@bbs.test"}, subject: "before the edit"})
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), "; no processors now\n")
	waitFor(t, 20*time.Second, "the configuration reload after editing mailproc.ini", func() bool {
		return b.logContains("configuration reloaded")
	})
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "reader@example.org", to: []string{"digital.man@bbs.test"}, subject: "after the edit"})
	for subject, stamped := range map[string]bool{"before the edit": true, "after the edit": false} {
		row, ok := routingRowWith(b.routingMailbox("Digital Man"), subject)
		if !ok {
			t.Fatalf("%q was not stored", subject)
		}
		text := b.must("mail", "read", "Digital Man", routingFields(row)[0])
		if got := strings.Contains(text, "X-Stamped:"); got != stamped {
			t.Errorf("%q stamped = %v, want %v", subject, got, stamped)
		}
	}
}
