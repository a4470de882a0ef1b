package pop3d_test

import (
	"crypto/md5"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/pop3d"
)

// The Observer hears each checked login with its method; a check the
// mailbase could not answer is neither success nor failure.
func TestObserverAuthResults(t *testing.T) {
	t.Parallel()
	var obs testkit.AuthResults
	ts := startServer(t, pop3d.Config{}, false, false, func(d *pop3d.Deps) { d.Observer = &obs })
	apop := func(secret string) string {
		c := dialFrom(t, ts.addr, "127.0.0.1")
		challenge := regexp.MustCompile(`<[^>]+>`).FindString(c.expect("+OK "))
		sum := md5.Sum([]byte(challenge + secret))
		return c.cmd("APOP alice "+hex.EncodeToString(sum[:]), "")
	}
	if r := apop("wonderland"); !strings.HasPrefix(r, "+OK") {
		t.Fatalf("APOP with the secret: %q", r)
	}

	if r := apop("not it"); !strings.HasPrefix(r, "-ERR [AUTH]") {
		t.Fatalf("APOP with a wrong secret: %q", r)
	}
	c := dialFrom(t, ts.addr, "127.0.0.1")
	c.expect("+OK ")
	c.cmd("USER broken", "+OK")
	c.cmd("PASS anything", "-ERR [SYS/TEMP]")
	c = dialFrom(t, ts.addr, "127.0.0.1")
	c.expect("+OK ")
	c.cmd("USER joe", "+OK")
	c.cmd("PASS Secret Word", "+OK joe has")
	if got, want := obs.String(), "APOP success, APOP failure, USER/PASS success"; got != want {
		t.Errorf("observed %q, want %q", got, want)
	}
}
