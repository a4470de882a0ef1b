package smtpd_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

// The message text all sessions hold in memory is bounded: while one
// message holds the whole MaxDataInFlight, another DATA is answered
// 452 4.3.1 before any text is sent; a message that outgrows the budget is
// read to its end, dropped as it arrives, and answered 452 4.3.1; and the
// budget is whole again once the messages are done.
func TestDataInFlightBudget(t *testing.T) {
	t.Parallel()
	ts, a := openData(t, func(c *smtpd.Config) { c.MaxDataInFlight = 2 << 20 },
		"MAIL FROM:<joe@remote.example>", "sysop@bbs.example")
	a.send("From: joe@remote.example\r\n\r\n")
	line := strings.Repeat("x", 998) + "\r\n"
	a.send(strings.Repeat(line, 1500)) // 1.5 MB: two steps of the budget
	testkit.WaitFor(t, 10*time.Second, "the first message to hold the budget", func() bool { return ts.srv.DataInFlight() == 2<<20 })

	b := ts.dial(t)
	b.expect("220 ")
	b.cmd("EHLO client.example", "250 ")
	b.cmd("MAIL FROM:<ann@remote.example>", "250 ")
	b.cmd("RCPT TO:<sysop@bbs.example>", "250 ")
	b.cmd("DATA", "452 4.3.1 ")

	a.send(strings.Repeat(line, 1000)) // over the budget now
	a.cmd(".", "452 4.3.1 ")
	if n := ts.drop.count(); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
	testkit.WaitFor(t, 10*time.Second, "the budget to be given back", func() bool { return ts.srv.DataInFlight() == 0 })

	// With room again, B's message goes through and gives its share back.
	b.cmd("MAIL FROM:<ann@remote.example>", "250 ")
	b.cmd("RCPT TO:<sysop@bbs.example>", "250 ")
	b.cmd("DATA", "354 ")
	b.cmd("From: ann@remote.example\r\n\r\n"+strings.Repeat(line, 1500)+".", "250 ")
	if ts.srv.DataInFlight() != 0 {
		t.Fatalf("%d octets still held after the message was stored", ts.srv.DataInFlight())
	}
}

// A message over MaxMsgSize gives its memory back as soon as it passes
// the limit, while the rest of it is still being read.
func TestOversizeDroppedAsItStreams(t *testing.T) {
	t.Parallel()
	ts, c := openData(t, func(c *smtpd.Config) { c.MaxMsgSize = 1 << 20 },
		"MAIL FROM:<joe@remote.example>", "sysop@bbs.example")
	line := strings.Repeat("y", 998) + "\r\n"
	c.send("From: joe@remote.example\r\n\r\n" + strings.Repeat(line, 1100))
	testkit.WaitFor(t, 10*time.Second, "the over-size text to be dropped", func() bool { return ts.srv.DataInFlight() == 0 })
	c.cmd(strings.Repeat(line, 100)+".", "552 5.3.4 ")
}
