package smtpd

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseCommand(t *testing.T) {
	cases := []struct {
		line, verb, arg string
		ok              bool
	}{
		{"mail FROM:<a@b>", "MAIL", "FROM:<a@b>", true},
		{"QUIT", "QUIT", "", true},
		{"EHLO  host.example  ", "EHLO", "host.example", true},
		{"HELO ho\x01st\x7f", "HELO", "host", true},
		{"", "", "", true},
		// NUL anywhere, or any control character in the verb, refuses the
		// line; the verb is still reported without it for the logs.
		{"HELO ho\x00st", "HELO", "host", false},
		{"EH\x00LO client.example", "EHLO", "client.example", false},
		{"AUTH\x01 PLAIN AGEAYg==", "AUTH", "PLAIN AGEAYg==", false},
		{"QUIT\r", "QUIT", "", false},
		// Paths keep their control characters for parseMailArg to refuse.
		{"RCPT TO:<al\x01ice@b>", "RCPT", "TO:<al\x01ice@b>", true},
		{"MAIL FROM:<a\x00b@c>", "MAIL", "FROM:<a\x00b@c>", true},
		{"MA\x00IL FROM:<a@c>", "MAIL", "FROM:<a@c>", false},
	}
	for _, c := range cases {
		v, a, ok := parseCommand(c.line)
		if v != c.verb || a != c.arg || ok != c.ok {
			t.Errorf("parseCommand(%q) = %q, %q, %v; want %q, %q, %v", c.line, v, a, ok, c.verb, c.arg, c.ok)
		}
	}
}

func TestParseMailArg(t *testing.T) {
	cases := []struct {
		arg, prefix, path string
		size              int64
		err               error
	}{
		{"FROM:<a@b>", "FROM:", "a@b", 0, nil},
		{"from: <a@b> SIZE=10 BODY=8bitmime AUTH=<>", "FROM:", "a@b", 10, nil},
		{"FROM:<>", "FROM:", "", 0, nil},
		{"FROM:a@b", "FROM:", "a@b", 0, nil},
		{"TO:<a@b>", "TO:", "a@b", 0, nil},
		{"TO:<a@b> NOTIFY=NEVER", "TO:", "", 0, errUnknownParm},
		{"FROM:<a@b> X=1", "FROM:", "", 0, errUnknownParm},
		{"FROM:<a@b> SIZE=-1", "FROM:", "", 0, errBadParams},
		{"FROM:<a@b> SIZE=99999999999999999999", "FROM:", "", 0, errBadParams},
		{"FROM:<a@b> BODY=BINARYMIME", "FROM:", "", 0, errBadParams},
		{"FROM:<a@b> =x", "FROM:", "", 0, errBadParams},
		{"FROM:<a@b", "FROM:", "", 0, errBadPath},
		{"FROM:<a\x00b\x01c\rd@example.org>", "FROM:", "", 0, errBadPath},
		{"TO:<al\x01ice@b>", "TO:", "", 0, errBadPath},
		{"TO:al\x7fice@b", "TO:", "", 0, errBadPath},
		{"FROM:<a@b> SIZE=1\x01", "FROM:", "", 0, errBadParams},
		{"FROM:", "FROM:", "", 0, errBadPath},
		{"<a@b>", "FROM:", "", 0, errNoPrefix},
		{"FRO", "FROM:", "", 0, errNoPrefix},
	}
	for _, c := range cases {
		m, err := parseMailArg(c.arg, c.prefix)
		if !errors.Is(err, c.err) || (c.err == nil && (m.path != c.path || m.size != c.size)) {
			t.Errorf("parseMailArg(%q) = %+v, %v; want %q %d %v", c.arg, m, err, c.path, c.size, c.err)
		}
	}
}

// FuzzParseCommand checks the command parser on arbitrary lines: no
// panics, verbs are upper-case words, and nothing that reaches a log line
// or a Received header carries control characters.
func FuzzParseCommand(f *testing.F) {
	f.Fuzz(func(t *testing.T, line string) {
		verb, arg, _ := parseCommand(line)
		if strings.ContainsAny(verb, " ") || verb != strings.ToUpper(verb) {
			t.Fatalf("verb %q", verb)
		}
		if strings.IndexFunc(verb, isCtl) >= 0 {
			t.Fatalf("control character in verb %q", verb)
		}
		if verb != "MAIL" && verb != "RCPT" && verb != "SEND" && verb != "SOML" && verb != "SAML" && strings.IndexFunc(arg, isCtl) >= 0 {
			t.Fatalf("control character in %q %q", verb, arg)
		}
		for _, p := range []string{"FROM:", "TO:"} {
			m, err := parseMailArg(arg, p)
			if err == nil && (strings.IndexFunc(m.path, isCtl) >= 0 || m.size < 0 || len(m.path) > len(arg)) {
				t.Fatalf("parseMailArg(%q, %q) = %+v", arg, p, m)
			}
		}
	})
}

// FuzzScanHeader checks that header scanning never grows a message, only
// ever removes Return-Path fields, and leaves no Return-Path in the header.
func FuzzScanHeader(f *testing.F) {
	f.Fuzz(func(t *testing.T, msg []byte) {
		out, _ := scanHeader(bytes.Clone(msg)) // it works in place
		if len(out) > len(msg) {
			t.Fatalf("grew: %q -> %q", msg, out)
		}
		if !bytes.Equal(out, msg) && !bytes.Contains(bytes.ToLower(msg), []byte("return-path")) {
			t.Fatalf("changed without a Return-Path: %q -> %q", msg, out)
		}
		again, _ := scanHeader(bytes.Clone(out))
		if !bytes.Equal(again, out) {
			t.Fatalf("a second scan still removes something: %q -> %q", out, again)
		}
	})
}
