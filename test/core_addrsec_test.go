package test

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// addrStranger is an unauthenticated client that relay.cfg does not list.
const addrStranger = "127.0.0.2"

// addrDialFrom opens an SMTP session to port from the local address src and
// reads the greeting.
func addrDialFrom(t *testing.T, b *bbs, port int, src string) *conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	c, err := d.Dial("tcp", b.addr(port))
	if err != nil {
		t.Fatalf("dial %s from %s: %v", b.addr(port), src, err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	cc := &conn{t: t, c: c, r: bufio.NewReader(c)}
	cc.expect("220 ")
	return cc
}

// addrRcpt runs EHLO, MAIL FROM and one RCPT TO in a new session from src
// and returns the reply to RCPT.
func addrRcpt(t *testing.T, b *bbs, src, from, rcpt string) string {
	t.Helper()
	c := addrDialFrom(t, b, b.ports.SMTP, src)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send("MAIL FROM:<" + from + ">")
	c.expect("250 ")
	c.send("RCPT TO:" + rcpt)
	r := c.reply()
	c.send("QUIT")
	return r
}

// The relay battery: alias.cfg lines whose value keeps the client's text
// ("*.bbs *", "*@old2.test *") once let a stranger relay through the local
// part, which may itself hold '@', '%' or '!'. Every form, quoted, behind a
// source route or with a trailing dot, is refused with 550 or 553 and
// nothing is queued or stored as netmail.
func TestCoreRelayThroughAliasRefused(t *testing.T) {
	t.Parallel()
	forms := []string{
		"<victim@evil.example.bbs@bbs.test>",
		"<victim@evil.example@old2.test>",
		`<"victim@evil.example.bbs"@bbs.test>`,
		`<"victim@evil.example"@old2.test>`,
		`<"victim"@evil.example.bbs@bbs.test>`,
		"<victim%evil.example.bbs@bbs.test>",
		"<victim%evil.example@old2.test>",
		"<evil.example!victim.bbs@bbs.test>",
		"<evil.example!victim@old2.test>",
		"<@bbs.test:victim@evil.example.bbs@bbs.test>",
		"<@bbs.test,@old2.test:victim@evil.example@old2.test>",
		"<victim@evil.example.@old2.test>",
		"<victim@evil.example.bbs.@bbs.test>",
		"<victim@evil.example.bbs@bbs.test.>",
		"<victim@evil.example.bbs>",
		`<"victim@f1.n2.z3.fidonet"@old2.test>`,
		`<"victim@[127.0.0.1]:25"@old2.test>`,
		"victim@evil.example@old2.test",
	}
	for _, cfg := range []struct {
		name    string
		aliases []string
		domains []string
	}{
		{"foreign old2", []string{"*.bbs\t*", "*@old2.test\t*"}, nil},
		{"local old2", []string{"*.bbs\t*", "*@old2.test\t*"}, []string{"old2.test"}},
		{"value suffix", []string{"*.bbs\t*@evil.example", "*@old2.test\t*.evil.example"}, []string{"old2.test"}},
	} {
		t.Run(cfg.name, func(t *testing.T) {
			t.Parallel()
			b := newBBS(t)
			b.routingAppend("alias.cfg", cfg.aliases...)
			if len(cfg.domains) > 0 {
				b.routingAppend("domains.cfg", cfg.domains...)
			}
			b.start()
			for _, rcpt := range forms {
				r := addrRcpt(t, b, addrStranger, "spammer@evil.example", rcpt)
				if !strings.HasPrefix(r, "550 ") && !strings.HasPrefix(r, "553 ") {
					t.Errorf("RCPT TO:%s from a stranger: got %q, want 550 or 553", rcpt, r)
				}
			}
			if q := coreQueueList(b); !strings.Contains(q, "0 entries") {
				t.Fatalf("a refused recipient was queued:\n%s", q)
			}
			if rows := routingRows(b.must("netmail", "list")); len(rows) != 0 {
				t.Fatalf("a refused recipient became netmail:\n%s", strings.Join(rows, "\n"))
			}
		})
	}
}

// Address literals and forced ports reach only public addresses on port
// 25, even for a client that may relay: victim@[127.0.0.1]:<port> is
// refused at RCPT with 550 and SendMail never connects. A route the sysop
// wrote out in alias.cfg still reaches the loopback peer.
func TestCoreLiteralDestinationRefused(t *testing.T) {
	t.Parallel()
	peer := startOutboundPeer(t, "", "")
	b := newBBS(t)
	b.mail["Options"] = outboundOptions
	coreWrite(t, filepath.Join(b.ctrl, "relay.cfg"), "; trusted for relaying\n127.0.0.1\n")
	b.routingAppend("alias.cfg", "gateway\tlist@[127.0.0.1]:"+itoa(peer.port))
	b.start()
	lit := "[127.0.0.1]:" + itoa(peer.port)
	for _, rcpt := range []string{
		"<victim@" + lit + ">",
		"<victim@[127.0.0.1]>",
		"<victim@127.0.0.1>",
		"<victim@[IPv6:::1]>",
		"<victim@[10.0.0.1]>",
		"<victim@[169.254.169.254]>",
		"<victim@[192.168.0.1]:25>",
		"<victim@example.com:" + itoa(peer.port) + ">",
		"<victim@localhost>",
	} {
		r := addrRcpt(t, b, "127.0.0.1", "www@bbs.test", rcpt)
		if !strings.HasPrefix(r, "550 5.7.1 Destination not allowed: ") {
			t.Errorf("RCPT TO:%s from a relay host: got %q, want 550 5.7.1 Destination not allowed", rcpt, r)
		}
	}
	if q := coreQueueList(b); !strings.Contains(q, "0 entries") {
		t.Fatalf("a refused destination was queued:\n%s", q)
	}
	coreDeliver(t, b, "www@bbs.test", "gateway@bbs.test", "through the sysop's route")
	waitFor(t, 30*time.Second, "the alias.cfg route to reach the peer", func() bool { return len(peer.messages()) > 0 })
	msgs := peer.messages()
	if len(msgs) != 1 || len(msgs[0].rcpts) != 1 || msgs[0].rcpts[0] != "list@[127.0.0.1]" {
		t.Fatalf("the peer got %+v; want one message to list@[127.0.0.1]", msgs)
	}
}

// Control characters in paths are refused, never dropped (501 5.1.7 for
// MAIL, 553 5.1.3 for RCPT), and a NUL in a command verb is not ignored
// (500): nothing reaches a mailbox under a name the client did not write.
// The two paths are the ones an outside audit saw accepted.
func TestCoreControlCharactersRefused(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Alice", "Alice-Pass-1")
	c := addrDialFrom(t, b, b.ports.SMTP, addrStranger)
	for _, step := range []struct{ send, want string }{
		{"EH\x00LO client.example", "500 "},
		{"EHLO client.example", "250 "},
		{"MAIL FROM:<a\x01b\x02c\rd@example.org>", "501 5.1.7 "},
		{"MAIL FROM:<a\x00b\x01c\rd@example.org>", "501 5.1.7 "},
		{"MA\x00IL FROM:<abcd@example.org>", "500 "},
		{"MAIL FROM:<abcd@example.org>", "250 "},
		{"RCPT TO:<al\x01ice@bbs.test>", "553 5.1.3 "},
		{"RCPT TO:<alice\x7f@bbs.test>", "553 5.1.3 "},
		{"RCPT TO:<alice@bbs.test>", "250 "},
		{"DATA", "354 "},
	} {
		c.send(step.send)
		c.expect(step.want)
	}
	c.send("From: abcd@example.org\r\nSubject: clean\r\n\r\nhello\r\n.")
	c.expect("250 ")
	c.send("QUIT")
	rows := coreMailList(b, "Alice")
	if len(rows) != 1 || !coreHasSubject(rows, "clean") {
		t.Fatalf("Alice's mailbox is not the one clean message:\n%s", strings.Join(rows, "\n"))
	}
}

// text/email.can is not dodged by quoting the local part: the recipient is
// an unknown user and the sender is refused, as for the unquoted address.
func TestCoreEmailCanQuoted(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	coreWrite(t, filepath.Join(b.root, "text", "email.can"), "; blocked addresses\nbob@bbs.test\nspammer@evil.example\n")
	b.start()
	b.addUser("Bob", "Bob-Pass-1")
	if r := addrRcpt(t, b, addrStranger, "joe@example.org", `<"bob"@bbs.test>`); !strings.HasPrefix(r, "550 5.1.1 ") {
		t.Errorf(`RCPT TO:<"bob"@bbs.test> with bob@bbs.test in email.can: got %q, want 550 5.1.1`, r)
	}
	c := addrDialFrom(t, b, b.ports.SMTP, addrStranger)
	c.send("EHLO client.example")
	c.expect("250 ")
	c.send(`MAIL FROM:<"spammer"@evil.example>`)
	c.expect("554 5.7.1 ")
	if rows := coreMailList(b, "Bob"); len(rows) != 0 {
		t.Fatalf("Bob got mail:\n%s", strings.Join(rows, "\n"))
	}
}
