package test

import (
	"path/filepath"
	"strings"
	"testing"
)

// The sysop's text/email.can, text/subject.can and ctrl/twitlist.cfg
// refuse mail from strangers over real SMTP, and nothing refused is stored;
// a clean message from the same client still arrives.
func TestCoreFilterLists(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.root, "text", "email.can"), "; blocked senders\nspammer@example.org\n")
	coreWrite(t, filepath.Join(b.root, "text", "subject.can"), "cheap pills~\n")
	coreWrite(t, filepath.Join(b.ctrl, "twitlist.cfg"), "Annoying Person\n")
	b.start()
	b.addUser("Digital Man", "Filter-Pass-1")

	send := func(from, header string) string {
		c := dial(t, b.addr(b.ports.SMTP))
		c.expect("220 ")
		c.send("EHLO client.example")
		c.expect("250 ")
		c.send("MAIL FROM:<" + from + ">")
		if r := c.reply(); !strings.HasPrefix(r, "250 ") {
			return r
		}
		c.send("RCPT TO:<digital.man@bbs.test>")
		c.expect("250 ")
		c.send("DATA")
		c.expect("354 ")
		c.send(header + "\r\n\r\nbody\r\n.")
		return c.reply()
	}
	if r := send("spammer@example.org", "From: spammer@example.org\r\nSubject: hi"); !strings.HasPrefix(r, "554 ") {
		t.Errorf("sender in email.can: %q, want 554", r)
	}
	if r := send("joe@example.org", "From: joe@example.org\r\nSubject: Cheap Pills today"); !strings.HasPrefix(r, "554 ") {
		t.Errorf("subject in subject.can: %q, want 554", r)
	}
	if r := send("joe@example.org", "From: Annoying Person <ap@example.org>\r\nSubject: hello again"); !strings.HasPrefix(r, "554 ") {
		t.Errorf("sender in twitlist.cfg: %q, want 554", r)
	}
	if r := send("joe@example.org", "From: joe@example.org\r\nSubject: welcome"); !strings.HasPrefix(r, "250 ") {
		t.Fatalf("clean message: %q, want 250", r)
	}
	out := b.must("mail", "list", "digital man")
	if !strings.Contains(out, "welcome") || strings.Contains(out, "Pills") || strings.Contains(out, "hello again") || strings.Count(out, "\n") != 2 {
		t.Fatalf("mailbox holds refused mail or lacks the clean one:\n%s", out)
	}
}
