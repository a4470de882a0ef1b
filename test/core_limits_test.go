package test

import (
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
)

// MaxClients = 2 counts SMTP and POP3 clients together, as Synchronet's
// mail server does: with two SMTP sessions open, a third SMTP client is
// told 421 and disconnected, and so is a POP3 client (with -ERR); once a
// session ends, a new client is served again, on either protocol.
func TestCoreLimitMaxClients(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["MaxClients"] = "2"
	b.start()
	first := coreHold(t, b, b.ports.SMTP, 2, "220 ")[0]
	extra := dial(t, b.addr(b.ports.SMTP))
	extra.expect("421 4.3.2 System Error: Maximum active clients reached")
	if !extra.closed() {
		t.Fatal("the client over MaxClients was not disconnected")
	}
	p3 := dial(t, b.addr(b.ports.POP3))
	p3.expect("-ERR System Error: Maximum active clients reached")
	if !p3.closed() {
		t.Fatal("the POP3 client over MaxClients (counted with the SMTP ones) was not disconnected")
	}
	first.send("QUIT")
	first.expect("221 ")
	coreHold(t, b, b.ports.POP3, 1, "+OK ")
	extra = dial(t, b.addr(b.ports.SMTP))
	extra.expect("421 4.3.2 System Error: Maximum active clients reached")
}

// MaxConcurrentConnections limits the simultaneous connections from one
// address (421 4.7.0 for the one too many), unless the address is listed
// in ipfilter_exempt.cfg — the stock file lists 127.0.0.0/8.
func TestCoreLimitConnectionsPerIP(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, exempt string
		refused      bool
	}{
		{"not exempt", "; nobody is exempt\n", true},
		{"exempt by the stock ipfilter_exempt.cfg", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBBS(t)
			if c.exempt != "" {
				coreWrite(t, filepath.Join(b.ctrl, "ipfilter_exempt.cfg"), c.exempt)
			}
			b.mail["MaxConcurrentConnections"] = "2"
			b.start()
			coreHold(t, b, b.ports.SMTP, 2, "220 ")
			third := dial(t, b.addr(b.ports.SMTP))
			r := third.reply()
			switch {
			case c.refused && !strings.HasPrefix(r, "421 4.7.0 System Error: Maximum connections exceeded"):
				t.Fatalf("third connection from 127.0.0.1: got %q, want 421 4.7.0", r)
			case c.refused && !third.closed():
				t.Fatal("the refused connection stays open")
			case !c.refused && !strings.HasPrefix(r, "220 "):
				t.Fatalf("third connection from an exempt address: got %q, want 220", r)
			}
			// The limit spans both protocols: POP3 from the same
			// address is refused too.
			p3 := dial(t, b.addr(b.ports.POP3))
			r = p3.reply()
			switch {
			case c.refused && r != "-ERR System Error: Maximum connections exceeded, try again later":
				t.Fatalf("POP3 from 127.0.0.1 with two SMTP connections open: got %q, want -ERR maximum connections", r)
			case !c.refused && !strings.HasPrefix(r, "+OK "):
				t.Fatalf("POP3 from an exempt address: got %q, want +OK", r)
			}
		})
	}
}

// MaxConcurrentConnections counts only clients that have not logged in
// (docs/sbbs-ini.md: "per client IP, not logged in"; Synchronet:
// connections from the IP minus those already logged in must stay below
// the limit), so two mail clients behind one NAT address that have
// authenticated leave room for a third connection.
func TestCoreLimitConnectionsPerIPLoggedIn(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.ctrl, "ipfilter_exempt.cfg"), "; nobody is exempt\n")
	b.mail["MaxConcurrentConnections"] = "2"
	b.start()
	b.addUser("Digital Man", "Limit-Pass-4")
	plain := base64.StdEncoding.EncodeToString([]byte("\x00Digital Man\x00Limit-Pass-4"))
	for _, c := range coreHold(t, b, b.ports.SMTP, 2, "220 ") {
		c.send("EHLO client.example") // loopback clients may use PLAIN without TLS
		c.expect("250 ")
		c.send("AUTH PLAIN " + plain)
		c.expect("235 ")
	}
	third := dial(t, b.addr(b.ports.SMTP))
	if r := third.reply(); !strings.HasPrefix(r, "220 ") {
		t.Fatalf("with both sessions from 127.0.0.1 logged in, a new connection got %q, want 220", r)
	}
}

// MaxInactivity = 2s: an SMTP client that says nothing gets "421 4.4.2
// ... Idle timeout" and is disconnected; a silent POP3 client gets
// "-ERR Inactivity timeout".
func TestCoreLimitMaxInactivity(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["MaxInactivity"] = "2s"
	b.start()
	c := coreSMTPReady(t, b)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.expect("421 4.4.2 ") // the harness's 30 s read deadline bounds the wait
	if !c.closed() {
		t.Fatal("the idle SMTP session was not closed")
	}
	p := dial(t, b.addr(b.ports.POP3))
	p.expect("+OK ")
	p.expect("-ERR Inactivity timeout")
	if !p.closed() {
		t.Fatal("the idle POP3 session was not closed")
	}
}

// MaxRecipients = 2: the third RCPT gets 452 4.5.3 and the message goes to
// the first two only.
func TestCoreLimitMaxRecipients(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["MaxRecipients"] = "2"
	b.start()
	for _, u := range []string{"alpha", "bravo", "charlie"} {
		b.addUser(u, "Limit-Pass-1")
	}
	c := coreStartTx(t, b, "joe@example.org")
	c.send("RCPT TO:<alpha@bbs.test>")
	c.expect("250 ")
	c.send("RCPT TO:<bravo@bbs.test>")
	c.expect("250 ")
	c.send("RCPT TO:<charlie@bbs.test>")
	c.expect("452 4.5.3 ")
	c.send("DATA")
	c.expect("354 ")
	c.send(strings.TrimSuffix(coreMessage("joe@example.org", "alpha@bbs.test", "two of three"), "\r\n") + "\r\n.")
	c.expect("250 ")
	for _, u := range []string{"alpha", "bravo"} {
		if rows := coreMailList(b, u); !coreHasSubject(rows, "two of three") {
			t.Errorf("%s did not get the message:\n%s", u, strings.Join(rows, "\n"))
		}
	}
	if rows := coreMailList(b, "charlie"); len(rows) != 0 {
		t.Errorf("charlie, refused with 452, got mail:\n%s", strings.Join(rows, "\n"))
	}
}

// MaxMsgSize = 1K: a message of exactly 1024 octets (CR LF counted, the
// server's own trace fields not) is accepted; a client that declares a
// bigger SIZE at MAIL is refused with 552 at once; one that sends a bigger
// message anyway gets 552 after DATA and nothing of it is stored.
func TestCoreLimitMaxMsgSize(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["MaxMsgSize"] = "1K"
	b.start()
	b.addUser("Digital Man", "Limit-Pass-2")
	sized := func(subject string, n int) string {
		hdr := "From: <joe@example.org>\r\nSubject: " + subject + "\r\n\r\n"
		return hdr + strings.Repeat("z", n-len(hdr)-2) + "\r\n"
	}
	c := coreSMTPReady(t, b)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("MAIL FROM:<joe@example.org> SIZE=1025")
	c.expect("552 5.3.4 ")
	for _, m := range []struct {
		subject string
		size    int
		reply   string
	}{{"just fits", 1024, "250 "}, {"one octet too many", 1025, "552 5.3.4 "}} {
		c.send("MAIL FROM:<joe@example.org> SIZE=1024")
		c.expect("250 ")
		c.send("RCPT TO:<digital.man@bbs.test>")
		c.expect("250 ")
		c.send("DATA")
		c.expect("354 ")
		c.send(strings.TrimSuffix(sized(m.subject, m.size), "\r\n") + "\r\n.")
		c.expect(m.reply)
	}
	c.send("QUIT")
	c.expect("221 ")
	if rows := coreMailList(b, "Digital Man"); len(rows) != 1 || !coreHasSubject(rows, "just fits") {
		t.Fatalf("want only the 1024-octet message stored:\n%s", strings.Join(rows, "\n"))
	}
}

// MaxMsgsWaiting = 2: with two messages waiting, the next RCPT gets
// 450 4.2.2 (the sending MTA retries later); a user the sysop exempted
// (W) keeps receiving.
func TestCoreLimitMaxMsgsWaiting(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["MaxMsgsWaiting"] = "2"
	b.start()
	b.addUser("Digital Man", "Limit-Pass-3")
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "first")
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "second")
	c := coreStartTx(t, b, "joe@example.org")
	c.send("RCPT TO:<digital.man@bbs.test>")
	c.expect("450 4.2.2 ")
	c.send("QUIT")
	c.expect("221 ")

	b.must("user", "set", "--exempt-w=true", "Digital Man")
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "third")
	if rows := coreMailList(b, "Digital Man"); len(rows) != 3 || !coreHasSubject(rows, "third") {
		t.Fatalf("the W-exempt user's mailbox:\n%s", strings.Join(rows, "\n"))
	}
}

// A command line over 512 octets gets 500 and the session goes on; after
// more than MaxBadCommands (default 10) bad commands the server says 421
// and hangs up.
func TestCoreLimitBadCommands(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	c := coreSMTPReady(t, b)
	c.send("EHLO " + strings.Repeat("a", 600) + ".example")
	c.expect("500 5.5.2 Line too long")
	c.send("NOOP")
	c.expect("250 ")
	for i := 2; i <= 10; i++ { // the long line was bad command 1
		c.send("XYZZY")
		c.expect("500 ")
	}
	c.send("NOOP")
	c.expect("250 ")
	c.send("XYZZY")
	c.expect("500 ")
	c.expect("421 4.7.0 ")
	if !c.closed() {
		t.Fatal("the session stays open after too many bad commands")
	}
	coreWaitLog(b, "TOO MANY BAD COMMANDS")
}
