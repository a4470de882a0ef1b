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
