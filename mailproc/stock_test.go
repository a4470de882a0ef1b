package mailproc_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
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
