package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// What a client sends cannot run a command through a native processor
// whose command line hands the specifiers to a second shell (sh -c,
// bash -c), as an audit showed with MAIL FROM:<x;touch pwned #@evil.example>.
// Each payload arrives over SMTP as the envelope sender (%r, and %a when
// the From header has no address) or as the From header's name (%s) and
// tries to create a marker file; the message is still delivered, and the
// processor sees the exact values in its environment.
func TestMailprocNestedShellInjection(t *testing.T) {
	t.Parallel()
	for _, form := range []struct{ name, shell, cmd string }{
		{"sh -c", "sh", `sh -c 'echo %s %a %r %h >/dev/null; echo "$MAILPROC_REVERSE_PATH" >> %jseen'`},
		{"bash -c", "bash", `bash -c "echo %s %a %r %h >/dev/null; echo \"\$MAILPROC_REVERSE_PATH\" >> %jseen"`},
	} {
		t.Run(form.name, func(t *testing.T) {
			t.Parallel()
			if _, err := exec.LookPath(form.shell); err != nil {
				t.Skipf("%s is not installed: %v", form.shell, err)
			}
			mailprocNestedShell(t, form.cmd)
		})
	}
}

func mailprocNestedShell(t *testing.T, cmd string) {
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.ctrl, "mailproc.ini"), "[Nested]\n\tNative = true\n\tCommand = "+cmd+"\n")
	b.start()
	b.addUser("Digital Man", "Nest-Pass-1")
	marker := filepath.Join(b.root, "data", "pwned")
	senders := []string{
		"x;touch " + marker + " #@evil.example",
		"`touch${IFS}" + marker + "`@evil.example",
		"x|touch${IFS}" + marker + "|x@evil.example",
		"$(touch${IFS}" + marker + ")@evil.example",
		`"x;touch ` + marker + `;"@evil.example`,
	}
	names := []string{
		"x; touch " + marker + "; #", "$(touch " + marker + ")", "`touch " + marker + "`",
		"x' ; touch " + marker + " ; '", `x" ; touch ` + marker + ` ; "`, "x >" + marker,
	}
	delivered := 0
	var accepted []string
	try := func(from, name string) {
		if mailprocSendNasty(t, b, from, name) {
			delivered++
			accepted = append(accepted, from)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("MAIL FROM:<%s> with From: %q ran a command through %s", from, name, cmd)
		}
	}
	for _, from := range senders {
		try(from, "Joe Sender")
	}
	for _, name := range names {
		try("joe@example.org", name)
	}
	if delivered < len(names) {
		t.Errorf("only %d messages delivered; every From name must be", delivered)
	}
	if b.logContains("External mail processor failed") {
		t.Errorf("a payload broke the processor's command line:\n%s", b.log.String())
	}
	seen, _ := os.ReadFile(filepath.Join(b.root, "data", "seen"))
	if strings.Count(string(seen), "\n") != delivered {
		t.Errorf("the processor ran %d times for %d messages; it saw:\n%s", strings.Count(string(seen), "\n"), delivered, seen)
	}
	for _, from := range accepted {
		if !strings.Contains(string(seen), "<"+from+">\n") {
			t.Errorf("the processor did not get the exact reverse path <%s> in its environment; it saw:\n%s", from, seen)
		}
	}
}

// mailprocSendNasty sends one message from the envelope sender from with
// the From header's name set to name, and reports whether it was
// delivered. A server that refuses the sender's syntax at MAIL is as safe.
func mailprocSendNasty(t *testing.T, b *bbs, from, name string) bool {
	t.Helper()
	c := coreSMTPReady(t, b)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("MAIL FROM:<" + from + ">")
	if r := c.reply(); !strings.HasPrefix(r, "250 ") {
		if !strings.HasPrefix(r, "5") {
			t.Fatalf("MAIL FROM:<%s>: %q, want 250 or a refusal", from, r)
		}
		c.send("QUIT")
		return false
	}
	c.send("RCPT TO:<digital.man@bbs.test>")
	c.expect("250 ")
	c.send("DATA")
	c.expect("354 ")
	c.send("From: \"" + strings.ReplaceAll(name, `"`, `\"`) + "\"\r\nTo: <digital.man@bbs.test>\r\nSubject: nested\r\n\r\nbody\r\n.")
	c.expect("250 ")
	c.send("QUIT")
	c.expect("221 ")
	return true
}
