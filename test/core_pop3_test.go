package test

import (
	"strings"
	"testing"
)

// Mail an MTA delivers on port 25 reaches the user's POP3 client byte for
// byte, with Return-Path and Received on top; its UIDL is the same in
// every session; DELE deletes only when the client says QUIT.
func TestCoreMTAToPOP3(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "Pop-Secret-1")
	out := python(t, "core_mta_pop3.py", coreHost, itoa(b.ports.SMTP), itoa(b.ports.POP3),
		"digital.man@bbs.test", "Digital Man", "Pop-Secret-1")
	t.Log(out)
	if rows := coreMailList(b, "Digital Man"); len(rows) != 0 {
		t.Fatalf("after DELE and QUIT the mailbox still holds:\n%s", strings.Join(rows, "\n"))
	}
}

// A POP3 client can log in over TLS every way a client may ask for it:
// POP3S on 995, STLS on 110 and APOP (no password on the wire); and a
// phone set up as "user#nospam" doesn't download the spam that is still
// in the mailbox for the desktop client.
func TestCorePOP3TLSAPOPNoSpam(t *testing.T) {
	t.Parallel()
	b := newBBS(t)
	b.start()
	b.addUser("Digital Man", "Pop-Secret-2")
	b.addUser("nightowl", "Owl-Pass-9")
	coreDeliver(t, b, "joe@example.org", "digital.man@bbs.test", "ham for the phone")
	spam := "From: <bulk@example.net>\r\nTo: <digital.man@bbs.test>\r\nSubject: cheap pills\r\nX-Spam-Flag: YES\r\n\r\nbuy now\r\n"
	coreDeliverText(t, b, "bulk@example.net", "digital.man@bbs.test", spam)

	pop := func(port int, mode, login, pw, want string) {
		t.Helper()
		t.Log(strings.TrimSpace(python(t, "core_pop3.py", coreHost, itoa(port), mode, login, pw, want)))
	}
	pop(b.ports.POP3S, "ssl", "Digital Man", "Pop-Secret-2", "2")
	pop(b.ports.POP3, "stls", "Digital Man", "Pop-Secret-2", "2")
	pop(b.ports.POP3, "apop", "nightowl", "Owl-Pass-9", "0")
	pop(b.ports.POP3, "apop", "Digital Man", "Pop-Secret-2", "2")
	pop(b.ports.POP3, "apop", "nightowl", "wrong-pass", "refused")
	pop(b.ports.POP3, "plain", "Digital Man#nospam", "Pop-Secret-2", "1")
	pop(b.ports.POP3S, "ssl", "digital man#NOSPAM", "Pop-Secret-2", "1")
	pop(b.ports.POP3, "apop", "Digital Man#nospam", "Pop-Secret-2", "1")
	// Hidden is not deleted: the spam is still there for a full login.
	pop(b.ports.POP3, "plain", "Digital Man", "Pop-Secret-2", "2")
	// One client at a time: a second login while the mailbox is open is
	// refused as IN-USE, so two clients can't delete the same messages.
	first := dial(t, b.addr(b.ports.POP3))
	first.expect("+OK ")
	first.send("USER Digital Man")
	first.expect("+OK ")
	first.send("PASS Pop-Secret-2")
	first.expect("+OK ")
	pop(b.ports.POP3S, "ssl", "Digital Man", "Pop-Secret-2", "in-use")
	first.send("QUIT")
	first.expect("+OK ")

	rows := coreMailList(b, "Digital Man")
	if !coreHasSubject(rows, "cheap pills") || !coreHasSubject(rows, "ham for the phone") {
		t.Fatalf("mail list after the POP3 sessions:\n%s", strings.Join(rows, "\n"))
	}
}
