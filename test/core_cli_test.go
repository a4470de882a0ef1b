package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The sysop manages users and reads mail with the command line while the
// server runs (the commands go through the server's control socket): a
// new password works at once for POP3 and SMTP AUTH and the old one stops
// working; user set changes what mail routing sees; a deleted user gets no
// more mail.
func TestCoreCLIWhileRunning(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	if fi, err := os.Stat(filepath.Join(b.root, "data", "bbsmail.sock")); err != nil || fi.Mode().Perm()&0o077 != 0 {
		t.Fatalf("control socket: %v, mode %v; want it owner-only", err, fi.Mode())
	}
	n := b.addUser("Digital Man", "Old-Pass-1", "--realname", "Rob Swindell")
	b.addUser("Guest Reader", "Guest-Pass-1")
	if out, errOut, code := b.run("", "user", "add", "--password", "x-1234", "digital_man"); code == 0 ||
		!strings.Contains(errOut, "already exists") {
		t.Fatalf("adding a second Digital Man (as digital_man): exit %d\n%s%s", code, out, errOut)
	}
	list := b.must("user", "list")
	if !regexp.MustCompile(`(?m)^`+itoa(n)+`\s+Digital Man\s+Rob Swindell\s`).MatchString(list) ||
		!strings.Contains(list, "Guest Reader") {
		t.Fatalf("user list:\n%s", list)
	}

	// mail list / mail read show what arrived over SMTP.
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "read me from the shell")
	rows := coreMailList(b, "Digital Man")
	if len(rows) != 1 || !coreHasSubject(rows, "read me from the shell") {
		t.Fatalf("mail list:\n%s", strings.Join(rows, "\n"))
	}
	id := strings.Fields(rows[0])[0]
	text := b.must("mail", "read", "Digital Man", id)
	for _, want := range []string{"Subject: read me from the shell", "body of read me from the shell", "Received: "} {
		if !strings.Contains(text, want) {
			t.Errorf("mail read %s lacks %q:\n%s", id, want, text)
		}
	}

	// user passwd: the new password works for POP3 and SMTP AUTH, the old
	// one no longer does.
	out, errOut, code := b.run("New-Pass-2\n", "user", "passwd", "--password", "-", "Digital Man")
	if code != 0 || !strings.Contains(out, "password of #"+itoa(n)+" Digital Man changed") {
		t.Fatalf("user passwd: exit %d\n%s%s", code, out, errOut)
	}
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Digital Man", "Old-Pass-1", "refused")
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Digital Man", "New-Pass-2", "1")
	python(t, "core_submit.py", "badauth", coreHost, itoa(b.ports.Submission), "Digital Man", "Old-Pass-1")
	python(t, "core_submit.py", "implicit", coreHost, itoa(b.ports.SMTPS), "Digital Man", "New-Pass-2",
		"digital.man@bbs.test", "guest.reader@bbs.test")

	// user set: a new real name is a new address for incoming mail.
	b.must("user", "set", "--realname", "Robert Swindell", "Digital Man")
	if list := b.must("user", "list"); !strings.Contains(list, "Robert Swindell") {
		t.Fatalf("user list after user set:\n%s", list)
	}
	coreDeliver(t, b, "joe@example.org", "robert.swindell@bbs.test", "to the new real name")

	// user del: the user's addresses are unknown from then on.
	out = b.must("user", "del", "Guest Reader")
	if !strings.Contains(out, "Guest Reader deleted") {
		t.Fatalf("user del: %s", out)
	}
	if list := b.must("user", "list"); strings.Contains(list, "Guest Reader") {
		t.Fatalf("user list still shows the deleted user:\n%s", list)
	}
	c := coreStartTx(t, b, "joe@example.org")
	c.send("RCPT TO:<guest.reader@bbs.test>")
	c.expect("550 5.1.1 ")
	python(t, "core_pop3.py", coreHost, itoa(b.ports.POP3), "plain", "Guest Reader", "Guest-Pass-1", "refused")

	if rows := coreMailList(b, "Digital Man"); !coreHasSubject(rows, "to the new real name") {
		t.Fatalf("mail to the new real name is missing:\n%s", strings.Join(rows, "\n"))
	}
}
