package test

import (
	"strings"
	"testing"
)

// A message delivered on port 25 to a local user is in that user's mailbox,
// as the command line shows while the server runs.
func TestSmokeDeliverAndList(t *testing.T) {
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "s3cret")
	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("MAIL FROM:<joe@example.org>")
	c.expect("250 ")
	c.send("RCPT TO:<digital.man@bbs.test>")
	c.expect("250 ")
	c.send("DATA")
	c.expect("354 ")
	c.send("From: Joe <joe@example.org>\r\nSubject: smoke\r\n\r\nhello\r\n.")
	c.expect("250 ")
	c.send("QUIT")
	c.expect("221 ")
	out := b.must("mail", "list", "digital_man")
	if !strings.Contains(out, "smoke") {
		t.Fatalf("mail list does not show the message:\n%s", out)
	}
}
