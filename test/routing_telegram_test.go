package test

import (
	"strings"
	"testing"
)

// routingTelegram runs one telegram transaction (verb is SEND, SOML or
// SAML) on an open session and returns the reply to RCPT; when that is
// 250 the text is sent and must be accepted.
func routingTelegram(c *conn, verb, from, to, text string) string {
	c.t.Helper()
	c.send(verb + " FROM:<" + from + ">")
	c.expect("250 ")
	c.send("RCPT TO:<" + to + ">")
	r := c.reply()
	if !strings.HasPrefix(r, "250 ") {
		c.send("RSET")
		c.expect("250 ")
		return r
	}
	c.send("DATA")
	c.expect("354 ")
	c.send(text + "\r\n.")
	c.expect("250 ")
	return r
}

// Telegrams over a raw socket: SEND reaches only a user who is online, SOML
// and SAML store a telegram for an offline user, the domain is ignored, a
// sender without '@' works, nothing lands in the mailbox, and `telegram
// list --clear` empties the list.
func TestRoutingTelegrams(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Sysop", routingPW)
	b.addUser("Alice", routingPW)

	c := dial(t, b.addr(b.ports.SMTP))
	c.expect("220 ")
	c.send("EHLO client.example")
	c.expect("250 ")
	if r := routingTelegram(c, "SEND", "joe@localhost", "alice@bbs.test", "not delivered"); r != "450 4.2.1 User unavailable" {
		t.Fatalf("SEND to an offline user: got %q, want 450 4.2.1 User unavailable", r)
	}
	if r := routingTelegram(c, "SEND", "joe@localhost", "nobody@bbs.test", "x"); !strings.HasPrefix(r, "550 5.1.1 Unknown User") {
		t.Fatalf("SEND to an unknown user: got %q, want 550 Unknown User", r)
	}

	b.must("user", "online", "alice", "on")
	// The domain of a telegram recipient is ignored: this is Alice.
	routingTelegram(c, "SEND", "joe@localhost", "alice@anywhere.example", "Hello Alice\r\nsecond line")
	// A reverse path without '@' crashed Synchronet.
	routingTelegram(c, "SEND", "bob", "alice", "from bob")
	c.send("NOOP")
	c.expect("250 ")

	b.must("user", "online", "alice", "off")
	routingTelegram(c, "SOML", "joe@localhost", "alice@bbs.test", "soml text")
	routingTelegram(c, "SAML", "joe@localhost", "alice@bbs.test", "saml text")
	c.send("QUIT")
	c.expect("221 ")

	// The server still answers new sessions.
	c2 := dial(t, b.addr(b.ports.SMTP))
	c2.expect("220 ")
	c2.send("QUIT")
	c2.expect("221 ")

	list := b.must("telegram", "list", "alice", "--clear")
	for _, want := range []string{
		"Instant Message from joe@localhost:\r\nHello Alice\r\nsecond line",
		"Instant Message from bob [127.0.0.1]",
		"from bob",
		"soml text",
		"saml text",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("telegram list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "not delivered") {
		t.Errorf("the refused SEND was stored:\n%s", list)
	}
	if n := strings.Count(list, "Instant Message from"); n != 4 {
		t.Errorf("want 4 telegrams, got %d:\n%s", n, list)
	}
	if rows := b.routingMailbox("alice"); len(rows) != 0 {
		t.Errorf("telegrams reached the mailbox:\n%s", strings.Join(rows, "\n"))
	}
	if after := b.must("telegram", "list", "alice"); !strings.Contains(after, "no telegrams for Alice") {
		t.Errorf("telegram list --clear left:\n%s", after)
	}
}

// New-mail notifications: a user who is online gets a telegram for new
// mail; an offline user only with NotifyOfflineUsers=true; NO_NOTIFY turns
// them off for everybody.
func TestRoutingNotifications(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name                  string
		options, offlineUsers string
		online, offline       bool // whether each user is notified
	}{
		{"default", outboundOptions + " | NO_SENDMAIL", "false", true, false},
		{"offline users", outboundOptions + " | NO_SENDMAIL", "true", true, true},
		{"NO_NOTIFY", outboundOptions + " | NO_SENDMAIL | NO_NOTIFY", "true", false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := newBBS(t)
			b.mail["Options"] = c.options
			b.mail["NotifyOfflineUsers"] = c.offlineUsers
			b.start()
			b.addUser("Sysop", routingPW)
			b.addUser("Alice", routingPW)
			b.addUser("Carol", routingPW)
			b.must("user", "online", "alice", "on")
			// The session ends only after the notifications are written
			// (they follow the 250 to DATA, before QUIT is read), so they
			// can be checked as soon as the script returns.
			b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org",
				to: []string{"carol@bbs.test", "alice@bbs.test"}, subject: "notify-me"})
			for _, u := range []struct {
				alias string
				want  bool
			}{{"alice", c.online}, {"carol", c.offline}} {
				b.routingWantMail(u.alias, "notify-me")
				got := b.must("telegram", "list", u.alias)
				if has := strings.Contains(got, "You have new e-mail from joe@example.org"); has != u.want {
					t.Errorf("%s notified = %v, want %v:\n%s", u.alias, has, u.want, got)
				}
			}
		})
	}
}
