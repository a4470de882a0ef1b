package test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// LoginRequirements (an access requirement string) turns away users who
// do not meet it, on POP3 and SMTP AUTH alike, and may test the client's
// address: a user below the level, or anyone from the refused address,
// fails as with a wrong password.
func TestARSLoginRequirements(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.mail["LoginRequirements"] = "LEVEL 20 AND NOT IP " + guardStranger
	b.start()
	b.addUser("Able", "Able-Pass-1")
	b.addUser("Lowly", "Lowly-Pass-1")
	b.must("user", "set", "--level", "50", "Able")
	b.must("user", "set", "--level", "10", "Lowly")

	for _, c := range []struct {
		user, password, src string
		ok                  bool
	}{
		{"Able", "Able-Pass-1", coreHost, true},
		{"Lowly", "Lowly-Pass-1", coreHost, false},
		{"Able", "Able-Pass-1", guardStranger, false},
	} {
		out := guardClient(t, "pop3-login", b.ports.POP3, c.src, c.user, c.password)
		if got := strings.HasPrefix(out, "OK "); got != c.ok {
			t.Errorf("POP3 login %s from %s: %q, want success %v", c.user, c.src, out, c.ok)
		}
	}

	for _, c := range []struct {
		user, password string
		want           string
	}{
		{"Able", "Able-Pass-1", "235"},
		{"Lowly", "Lowly-Pass-1", "535"},
	} {
		s := dial(t, b.addr(b.ports.SMTP))
		s.expect("220")
		s.send("EHLO client.test")
		s.expect("250")
		s.send("AUTH PLAIN " + base64.StdEncoding.EncodeToString([]byte("\x00"+c.user+"\x00"+c.password)))
		s.expect(c.want)
	}
	// The server's log reaches the test through a pipe: wait for it.
	waitFor(t, 10*time.Second, "the log line saying why Lowly was refused", func() bool {
		return b.logContains("Lowly does not meet LoginRequirements")
	})
}

// A sub-board's post_ars decides who may post on it by mail: LOCAL-NOTICES
// is for the sysop (post_ars=SYSOP), so an Internet sender is refused at
// RCPT and nothing is posted, while the sysop, logged in on the submission
// port, posts. LOCAL-GENERAL has no requirement.
func TestARSSubBoardPostRights(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Sysop", "Sysop-Pass-1")
	b.must("user", "set", "--level", "90", "Sysop")
	b.addUser("Member", "Member-Pass-1")
	b.must("user", "set", "--level", "50", "Member")

	b.routingRefused(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"sub:LOCAL-NOTICES@bbs.test"}, subject: "stranger"},
		"550 5.7.1 Insufficient access: you may not post on Notices")
	b.routingRefused(routingMsg{port: b.ports.Submission, from: "member@bbs.test", to: []string{"sub:LOCAL-NOTICES@bbs.test"}, subject: "member",
		auth: []string{"Member", "Member-Pass-1"}}, "550 5.7.1 Insufficient access")
	b.routingMustSend(routingMsg{port: b.ports.Submission, from: "sysop@bbs.test", to: []string{"sub:LOCAL-NOTICES@bbs.test"}, subject: "from the sysop",
		auth: []string{"Sysop", "Sysop-Pass-1"}})
	b.routingMustSend(routingMsg{port: b.ports.SMTP, from: "joe@example.org", to: []string{"sub:LOCAL-GENERAL@bbs.test"}, subject: "open board"})

	notices := b.must("sub", "list", "LOCAL-NOTICES")
	if !strings.Contains(notices, "from the sysop") || strings.Contains(notices, "stranger") || strings.Contains(notices, "member") {
		t.Errorf("LOCAL-NOTICES holds:\n%s\nwant only the sysop's post", notices)
	}
	if general := b.must("sub", "list", "LOCAL-GENERAL"); !strings.Contains(general, "open board") {
		t.Errorf("LOCAL-GENERAL holds:\n%s\nwant the open post", general)
	}
}
