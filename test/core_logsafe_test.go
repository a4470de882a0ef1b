package test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// What clients send reaches the server log and data/spam.log as text a
// terminal shows as it is: no escape sequence (ESC or the one-byte CSI,
// U+009B, that many terminals obey), no carriage return that hides what
// came before it on a `tail -f`, no line end that starts a forged line.
// Each payload below went through a path that kept it before: AUTH user
// names (C0 removed, C1 kept), POP3 USER names, RFC 2047 subjects caught
// by subject.can, and whole command lines under DEBUG_RX_RSP.
func TestCoreLogNoTerminalControls(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.root, "text", "subject.can"), "cheap pills~\n")
	b.mail["Options"] = "ALLOW_POP3 | USE_SUBMISSION_PORT | TLS_SUBMISSION | TLS_POP3 | NO_HOST_LOOKUP | NO_SENDMAIL | DEBUG_RX_RSP"
	b.start()
	b.addUser("Digital Man", "Logsafe-Pass-1")

	csi := "\u009b31m"
	payloads := []struct{ name, login string }{
		{"C1 CSI", "evil" + csi + "root"},
		{"raw CSI byte", "evil\x9b2Jroot"},
		{"OSC title", "evil\u009d0;owned\u009croot"},
	}
	for _, p := range payloads {
		c := dial(t, b.addr(b.ports.Submission))
		c.expect("220 ")
		c.send("EHLO client.example")
		c.expect("250 ")
		c.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+p.login+"\x00wrong-pass")))
		c.expect("535 ")
		c.send("QUIT")

		pc := dial(t, b.addr(b.ports.POP3))
		pc.expect("+OK")
		pc.send("USER " + p.login)
		pc.expect("+OK")
		pc.send("PASS wrong-pass")
		pc.expect("-ERR")
		pc.send("QUIT")
	}

	c := coreStartTx(t, b, "joe@example.org")
	c.send("NOOP \x1b[2J\rforged")
	c.expect("250 ")
	c.send("RCPT TO:<digital.man@bbs.test>")
	c.expect("250 ")
	c.send("DATA")
	c.expect("354 ")
	c.send("From: joe@example.org\r\nSubject: =?utf-8?q?cheap_pills_=C2=9B2J=C2=9D0;x=C2=9C?=\r\n\r\nbody\r\n.")
	c.expect("554 ")
	c.send("QUIT")

	waitFor(t, 10*time.Second, "the blocked subject in the log", func() bool { return b.logContains("BLOCKED SUBJECT") })
	waitFor(t, 10*time.Second, "the POP3 failures in the log", func() bool {
		return strings.Count(b.log.String(), "AUTHENTICATION FAILURE") >= len(payloads)
	})
	logText := b.log.String()
	if i := terminalControl(logText, false); i >= 0 {
		t.Errorf("server log holds a terminal control at %d: %q", i, around(logText, i))
	}
	if !strings.Contains(logText, `evil\u009b31mroot`) {
		t.Errorf("server log does not show the escaped user name")
	}
	spam, err := os.ReadFile(filepath.Join(b.root, "data", "spam.log"))
	if err != nil {
		t.Fatal(err)
	}
	if i := terminalControl(string(spam), true); i >= 0 {
		t.Errorf("spam.log holds a terminal control at %d: %q", i, around(string(spam), i))
	}
}

// terminalControl returns the index of the first byte of s a terminal
// would act on (C0 other than tab and LF, CR too unless crlf lines are
// expected, DEL, a C1 character or a raw byte 0x80-0x9F), or -1.
func terminalControl(s string, crlf bool) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\t' || r == '\n':
		case r == '\r' && crlf && strings.HasPrefix(s[i:], "\r\n"):
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return i
		case r == utf8.RuneError && n == 1 && s[i] >= 0x80 && s[i] <= 0x9f:
			return i
		}
		i += n
	}
	return -1
}

func around(s string, i int) string {
	return s[max(0, i-60):min(len(s), i+20)]
}
