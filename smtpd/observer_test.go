package smtpd_test

import (
	"encoding/base64"
	"testing"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

// The Observer hears each AUTH whose credentials were checked, with its
// mechanism; a cancelled exchange, an unknown mechanism and bad base64
// are neither success nor failure.
func TestObserverAuthResults(t *testing.T) {
	t.Parallel()
	var obs testkit.AuthResults
	ts := startServer(t, smtpd.MTA, nil, func(d *smtpd.Deps) { d.Observer = &obs })
	b64 := base64.StdEncoding.EncodeToString

	c := ts.dial(t)
	c.expect("220 ")
	ehlo(c)
	c.cmd("AUTH CRAM-MD5", "334 ")
	c.cmd("*", "501 ")
	c.cmd("AUTH X-UNKNOWN", "504 ")
	c.cmd("AUTH PLAIN !!!", "501 ")
	c.cmd("AUTH PLAIN "+b64([]byte("\x00sysop\x00Secret1")), "235 ")
	c.cmd("QUIT", "221 ")

	c = ts.dial(t)
	c.expect("220 ")
	ehlo(c)
	c.cmd("AUTH LOGIN", "334 ")
	c.cmd(b64([]byte("guest")), "334 ")
	c.cmd(b64([]byte("wrong")), "535 ")
	c.expectClosed()

	c = ts.dial(t)
	c.expect("220 ")
	ehlo(c)
	line := c.cmd("AUTH CRAM-MD5", "334 ")
	c.cmd(cramResponse("guest", "guestpw", line[4:]), "235 ")

	if got, want := obs.String(), "PLAIN success, LOGIN failure, CRAM-MD5 success"; got != want {
		t.Errorf("observed %q, want %q", got, want)
	}
}
