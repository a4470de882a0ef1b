package smtpd_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/smtpd"
)

// Remote copies of one message share a trace without a "for" clause, so
// SendMail can send them in one transaction without naming the other
// recipients; the local copy keeps its own "for".
func TestRemoteCopiesShareTrace(t *testing.T) {
	t.Parallel()
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.RelayHosts = pattern.MustParse("127.0.0.1") })
	c := ts.dial(t)
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<joe@example.org>", "250 ")
	c.cmd("RCPT TO:<one@remote.example>", "250 ")
	c.cmd("RCPT TO:<two@other.example>", "250 ")
	c.cmd("RCPT TO:<sysop@bbs.example>", "250 ")
	c.cmd("DATA", "354 ")
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
