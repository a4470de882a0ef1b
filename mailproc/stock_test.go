package mailproc_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/mailproc"
)

// stockExec is Synchronet's own exec/ directory (mailauth.js, spamc.js,
// listserver.js and the exec/load/ libraries), kept beside the project as
// a test fixture. Tests point ExecDir at it: the scripts run as shipped.
func stockExec(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "shared", "synchronet-sample", "exec"))
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "mailauth.js"))
	}
	if err != nil {
		t.Skipf("Synchronet's stock exec/ directory is not available (../shared/synchronet-sample/exec): %v", err)
	}
	return dir
}

// Synchronet's mailauth.js runs unmodified: mail that claims one of the
// BBS's domains from a client that is not the BBS itself and did not
// authenticate is refused with the script's text; the same claim from an
// authenticated user, or from the local host, passes.
func TestStockMailauth(t *testing.T) {
	t.Parallel()
	exec := stockExec(t)
	tr := newTree(t)
	tr.write(t, "ctrl/domains.cfg", "lists.example.org\n")
	users := map[uint32]mailproc.UserInfo{
		5: {Number: 5, Alias: "Digital Man", Level: 50},
		6: {Number: 6, Alias: "Guest", Level: 10, Restrictions: "G"},
	}
	s := tr.load(t, "[MailAuth]\nCommand = mailauth.js\n", func(c *mailproc.Config) {
		c.ExecDir = exec
		c.Interfaces = []string{"192.0.2.1"}
		c.User = func(n uint32) (mailproc.UserInfo, bool) { u, ok := users[n]; return u, ok }
		c.LookupIP = func(context.Context, string) ([]string, error) { return nil, errors.New("no DNS here") }
	})
	claim := func(from, ip string, user uint32) mailproc.Input {
		in := input(user1)
		in.SenderAddr, in.Env.ReversePath, in.Env.ClientIP = from, from, ip
		if user != 0 {
			in.Env.Auth = &envelope.Identity{User: user, Alias: users[user].Alias}
		}
		return in
	}
	for _, c := range []struct {
		name   string
		in     mailproc.Input
		reject string
	}{
		{"our host name, unauthenticated", claim("sysop@bbs.example.org", "198.51.100.9", 0),
			"Mail deliveries from bbs.example.org must use SMTP-AUTH"},
		{"a domain of domains.cfg", claim("joe@lists.example.org", "198.51.100.9", 0),
			"Mail deliveries from lists.example.org must use SMTP-AUTH"},
		{"guest user", claim("sysop@bbs.example.org", "198.51.100.9", 6),
			"Mail deliveries from bbs.example.org must use SMTP-AUTH"},
		{"authenticated user", claim("sysop@bbs.example.org", "198.51.100.9", 5), ""},
		{"from the BBS itself", claim("sysop@bbs.example.org", "127.0.0.1", 0), ""},
		{"from our own interface", claim("sysop@bbs.example.org", "192.0.2.1", 0), ""},
		{"a foreign domain", claim("joe@example.com", "198.51.100.9", 0), ""},
	} {
		out := run(t, s, c.in)
		if len(out.Failed) != 0 {
			t.Fatalf("%s: mailauth.js failed: %v\n%s", c.name, out.Failed, tr.log)
		}
		switch {
		case c.reject == "" && out.Reject != nil:
			t.Errorf("%s: rejected with %q, want it to pass", c.name, out.Reject.Lines())
		case c.reject != "" && (out.Reject == nil || !strings.Contains(strings.Join(out.Reject.Lines(), "\n"), c.reject)):
			t.Errorf("%s: outcome %+v, want a rejection with %q", c.name, out.Reject, c.reject)
		}
	}
	tr.noTempFiles(t)
}

// Synchronet's spamc.js and salib.js run unmodified against a real spamd
// (SpamAssassin, network tests off): GTUBE is spam and, with "reject", is
// refused with the score; without "reject" it is rewritten with
// SpamAssassin's X-Spam-* headers; a plain message is ham and passes.
func TestStockSpamc(t *testing.T) {
	t.Parallel()
	exec := stockExec(t)
	port := testkit.Spamd(t)
	tr := newTree(t)
	spam := "From: Joe <joe@example.org>\r\nTo: sysop@bbs.example.org\r\nSubject: buy now\r\n\r\n" + testkit.GTUBE + "\r\n"
	msg := func(text string) mailproc.Input {
		in := input(user1)
		in.Text = []byte(text)
		return in
	}
	s := tr.load(t, fmt.Sprintf("[SpamReject]\nCommand = spamc.js dest 127.0.0.1 port %d reject\n", port),
		func(c *mailproc.Config) { c.ExecDir = exec })
	out := run(t, s, msg(spam))
	if out.Reject == nil || out.Reject.Code != 554 ||
		!strings.Contains(strings.Join(out.Reject.Lines(), "\n"), "SpamAssassin rejected your mail: score: 10") ||
		!strings.Contains(strings.Join(out.Reject.Lines(), "\n"), "GTUBE") {
		t.Fatalf("GTUBE with reject: %+v (failed %v), want 554 with spamd's score\n%s", out.Reject, out.Failed, tr.log)
	}
	out = run(t, s, msg(testMsg))
	if out.Reject != nil || len(out.Failed) != 0 || !strings.Contains(string(out.Text), "X-Spam-Status: No") {
		t.Fatalf("a plain message with reject: %+v, failed %v, text:\n%s\nlog:\n%s", out.Reject, out.Failed, out.Text, tr.log)
	}

	s = tr.load(t, fmt.Sprintf("[SpamTag]\nCommand = spamc.js dest 127.0.0.1 port %d\n", port),
		func(c *mailproc.Config) { c.ExecDir = exec })
	out = run(t, s, msg(spam))
	if out.Reject != nil || len(out.Failed) != 0 || !strings.Contains(string(out.Text), "X-Spam-Flag: YES") ||
		!strings.Contains(string(out.Text), "X-Spam-Status: Yes") || !strings.Contains(string(out.Text), "GTUBE") {
		t.Fatalf("GTUBE without reject: %+v, failed %v, text:\n%s\nlog:\n%s", out.Reject, out.Failed, out.Text, tr.log)
	}
	tr.noTempFiles(t)
}

// A script's Socket reaches a loopback address; an address a client sent
// (here the client's own, through %i) is refused without a connection
// being tried.
func TestJSSocketPolicy(t *testing.T) {
	t.Parallel()
	tr := newTree(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_, _ = c.Write([]byte("hello\r\nrest"))
			_ = c.Close()
		}
	}()
	tr.write(t, "exec/sock.js", `
var s = new Socket(1);
log("loopback " + s.connect("127.0.0.1", argv[0]) + " " + s.recvline() + " " + s.recv() + " [" + s.recv() + "] " + s.is_connected);
s.close();
var o = new Socket(1);
log("client's " + o.connect(argv[1], 25, 1) + " " + o.error);
`)
	s := tr.load(t, fmt.Sprintf("[Sock]\nCommand = sock.js %d %%i\n", l.Addr().(*net.TCPAddr).Port), nil)
	in := input(user1)
	in.Env.ClientIP = "192.0.2.9"
	if out := run(t, s, in); len(out.Failed) != 0 {
		t.Fatalf("failed: %v\n%s", out.Failed, tr.log)
	}
	log := tr.log.String()
	for _, want := range []string{"loopback true hello rest [] false", "client's false 13", "may not connect"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}
