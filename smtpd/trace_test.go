package smtpd_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/smtpd"
)

// Remote copies of one message share a trace without a "for" clause, so
// SendMail can send them in one transaction without naming the other
// recipients; the local copy keeps its own "for".
func TestRemoteCopiesShareTrace(t *testing.T) {
	t.Parallel()
	ts, c := openData(t, func(c *smtpd.Config) { c.RelayHosts = pattern.MustParse("127.0.0.1") }, "MAIL FROM:<joe@example.org>", "one@remote.example", "two@other.example", "sysop@bbs.example")
	c.cmd("From: joe@example.org\r\nSubject: t\r\n\r\nhi\r\n.", "250 ")
	env, _ := ts.drop.last()
	var remote [][]byte
	for _, r := range env.Rcpts {
		switch r.Kind {
		case envelope.KindRemote:
			remote = append(remote, r.Trace)
			if bytes.Contains(r.Trace, []byte("for ")) {
				t.Errorf("remote copy names a recipient:\n%s", r.Trace)
			}
		case envelope.KindMailbox:
			if !strings.Contains(string(r.Trace), "for <sysop@bbs.example>;") {
				t.Errorf("local copy lost its for clause:\n%s", r.Trace)
			}
		}
	}
	if len(remote) != 2 || !bytes.Equal(remote[0], remote[1]) {
		t.Fatalf("remote traces differ:\n%s\n%s", remote[0], remote[1])
	}
}

// A lone dot with a bare LF or a bare CR on either side never ends the
// data: a client cannot smuggle a second message past this server (or
// past an MTA behind it that reads LF.LF, CR.CR or CR.CRLF as the end).
// The message is refused after the real <CRLF>.<CRLF>, nothing is stored,
// and the "smuggled" commands were only text.
func TestBareLineEndDotIsNotEndOfData(t *testing.T) {
	t.Parallel()
	for name, smuggle := range map[string]string{
		"LF.LF":     "hello\n.\n",
		"CRLF.LF":   "hello\r\n.\n",
		"LF.CRLF":   "hello\n.\r\n",
		"CR.CR":     "hello\r.\r",
		"CR.CRLF":   "hello\r.\r\n",
		"CRLF.CR":   "hello\r\n.\r",
		"CRLF.CRCR": "hello\r\n.\r\r\n",
		"LF.CR":     "hello\n.\r",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts, c := openData(t, nil, "MAIL FROM:<joe@remote.example>", "sysop@bbs.example")
			c.send("From: joe@remote.example\r\nSubject: outer\r\n\r\n" + smuggle +
				"MAIL FROM:<ceo@bbs.example>\r\nRCPT TO:<sysop@bbs.example>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n")
			c.expect("554 5.6.0 ")
			if n := ts.drop.count(); n != 0 {
				t.Fatalf("%d messages stored from a smuggling attempt", n)
			}
			c.cmd("NOOP", "250 ")
		})
	}
}

// The stored text has CR LF line ends only: a bare LF or a bare CR ends a
// line, CRs before a line end are dropped, and a dot after a bare CR is
// text (it was no line start on the wire, so it is not unstuffed).
func TestBareLineEndsNormalised(t *testing.T) {
	t.Parallel()
	ts, c := openData(t, nil, "MAIL FROM:<joe@remote.example>", "sysop@bbs.example")
	c.cmd("From: joe@remote.example\r\nSubject: ends\r\n\r\n"+
		"lf\ncr\rmid\r..dot after cr\r\ncrcrlf\r\r\n..stuffed\r\nend\r\n.", "250 ")
	_, msg := ts.drop.last()
	want := "From: joe@remote.example\r\nSubject: ends\r\n\r\n" +
		"lf\r\ncr\r\nmid\r\n..dot after cr\r\ncrcrlf\r\n.stuffed\r\nend\r\n"
	if string(msg) != want {
		t.Fatalf("stored %q\nwant   %q", msg, want)
	}
}

// A message that has passed more than 100 MTAs is looping (RFC 5321 §6.3).
func TestMailLoopRefused(t *testing.T) {
	t.Parallel()
	ts, c := openData(t, nil, "MAIL FROM:<joe@remote.example>", "sysop@bbs.example")
	c.send(strings.Repeat("Received: from a by b; Sun, 22 Nov 2026 10:00:00 +0000\r\n", 101) + "From: joe@remote.example\r\n\r\nloop\r\n.\r\n")
	c.expect("554 5.4.6 ")
	if n := ts.drop.count(); n != 0 {
		t.Fatalf("a looping message was stored")
	}
}

// A telegram in a legacy code page or longer than a short message is
// stored (cleaned up and cut), not refused with a temporary error the
// client would retry for days.
func TestTelegramTextCleaned(t *testing.T) {
	t.Parallel()
	ts, c := openData(t, nil, "SAML FROM:<bob@remote.example>", "sysop@bbs.example")
	c.cmd("Gr\x81\xe1e\r\n"+strings.Repeat(strings.Repeat("x", 900)+"\r\n", 6)+".", "250 ")
	msgs := ts.tele.all()
	if len(msgs) != 1 {
		t.Fatalf("telegrams: %v", msgs)
	}
	m := msgs[0].text
	if !utf8.ValidString(m) || len(m) > 4096 || !strings.Contains(m, "Gr?e") || !strings.HasSuffix(m, " [...]") {
		t.Fatalf("telegram text (%d bytes): %.80q...", len(m), m)
	}
}

// openData starts a session with EHLO, the given MAIL/SEND/SOML/SAML
// command and recipients, and sends DATA.
func openData(t *testing.T, edit func(*smtpd.Config), from string, rcpts ...string) (*testServer, *client) {
	t.Helper()
	ts := startServer(t, smtpd.MTA, edit)
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	c.cmd(from, "250 ")
	for _, r := range rcpts {
		c.cmd("RCPT TO:<"+r+">", "250 ")
	}
	c.cmd("DATA", "354 ")
	return ts, c
}

// A client's HELO/EHLO argument reaches the Received header only as a
// token of domain or address-literal characters: whatever else it holds
// (comment and literal brackets, semicolons, colons, quotes, backslashes,
// 8-bit bytes, what is left of an attempt at a second line) is replaced by "?", and a
// long one is cut, so the client can neither break the comment nor forge
// a trace field. A well-formed name or literal is written as it came.
func TestHostileHeloInReceived(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 400) + ".example"
	cases := []struct{ name, line, want string }{
		{"plain", "EHLO mx.remote.example", "mx.remote.example"},
		{"ipv4-literal", "EHLO [192.0.2.7]", "[192.0.2.7]"},
		{"ipv6-literal", "EHLO [IPv6:2001:db8::7]", "[IPv6:2001:db8::7]"},
		{"ipv6-zone", "EHLO [IPv6:fe80::1%eth0]", "?IPv6?fe80??1?eth0?"},
		{"helo-verb", "HELO x(y)z", "x?y?z"},
		{"close-comment", "EHLO a)by-forged.example", "a?by-forged.example"},
		{"nested-comment", "EHLO ((x))", "??x??"},
		{"fake-ip", "EHLO x.example][10.0.0.1", "x.example??10.0.0.1"},
		{"open-literal", "EHLO [192.0.2.7", "?192.0.2.7"},
		{"bad-literal", "EHLO [999.1.1.1]", "?999.1.1.1?"},
		{"semicolon-date", "EHLO x;Mon,01-Jan-2001", "x?Mon?01-Jan-2001"},
		{"quoted-pair", `EHLO a\)b"c'`, "a??b?c?"},
		// Control characters are taken out of a command (NUL refuses it).
		{"cr-header", "EHLO a.example\rReceived:from-forged", "a.exampleReceived?from-forged"},
		{"del-ctl", "EHLO a\x7fb\x1bc", "abc"},
		{"eight-bit", "EHLO gr\xfc\xdfe.example", "gr??e.example"},
		{"utf8", "EHLO b\xc3\xbccher.example", "b??cher.example"},
		{"at-angle", "EHLO <joe@x>", "?joe?x?"},
		{"long", "EHLO " + long, long[:252] + "..."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, smtpd.MTA, nil)
			c := ts.dial(t)
			c.expect("220 ")
			c.cmd(tc.line, "250")
			c.cmd("MAIL FROM:<joe@remote.example>", "250 ")
			c.cmd("RCPT TO:<sysop@bbs.example>", "250 ")
			c.cmd("DATA", "354 ")
			c.cmd("From: joe@remote.example\r\nSubject: t\r\n\r\nhi\r\n.", "250 ")
			env, _ := ts.drop.last()
			trace := string(env.Rcpts[0].Trace)
			for i := 0; i < len(trace); i++ {
				if b := trace[i]; b >= 0x7f || (b < ' ' && b != '\r' && b != '\n') {
					t.Fatalf("byte %#x in the trace:\n%q", b, trace)
				}
			}
			if n := strings.Count(trace, "Received:"); n != 1 {
				t.Fatalf("%d Received fields:\n%s", n, trace)
			}
			first := strings.SplitN(trace, "\r\n", 3)[1]
			want := "Received: from client.example (" + tc.want + " [127.0.0.1])"
			if first != want {
				t.Fatalf("Received line\n got %q\nwant %q", first, want)
			}
		})
	}
}
