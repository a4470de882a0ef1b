package smtpd_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/smtpd"
)

var (
	_ smtpd.LoginGuard  = (*testkit.Guard)(nil)
	_ smtpd.RateLimiter = (*testkit.Guard)(nil)
)

func withGuard(g *testkit.Guard) func(*smtpd.Deps) {
	return func(d *smtpd.Deps) { d.Guard, d.RateLimit = g, g }
}

// otherClient is a loopback address that is not the server's own
// (127.0.0.1), as a client on another machine would be.
const otherClient = "127.0.0.2"

// dialFrom connects from a given local address.
func (ts *testServer) dialFrom(t *testing.T, ip string) *client {
	t.Helper()
	c := testkit.DialFrom(t, ts.addr, ip)
	return &client{t: t, conn: c, r: bufio.NewReader(c)}
}

// A banned client is closed before the greeting without a word; the
// server's own address and ipfilter_exempt.cfg are never banned.
func TestGuardBanClosesSilently(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, from, exempt string
		closed             bool
	}{
		{"banned", otherClient, "", true},
		{"own address", "127.0.0.1", "", false},
		{"ipfilter_exempt.cfg", otherClient, "127.0.0.2\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := &testkit.Guard{Ban: true, Allowed: -1}
			ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
				if tc.exempt != "" {
					c.IPFilterExempt = pattern.MustParse(tc.exempt)
				}
			}, withGuard(g))
			c := ts.dialFrom(t, tc.from)
			line, err := c.readLine()
			if tc.closed {
				if err == nil || line != "" {
					t.Fatalf("banned client got %q, %v; want a silent close", line, err)
				}
				testkit.WaitFor(t, 10*time.Second, "the ban in the log", func() bool {
					return strings.Contains(ts.log.String(), "TEMPORARY BAN (20 login attempts, last: root)")
				})
				return
			}
			if !strings.HasPrefix(line, "220 ") {
				t.Fatalf("got %q, %v; want the greeting", line, err)
			}
			for _, q := range g.Record().Asked {
				if strings.HasPrefix(q, "ban ") {
					t.Errorf("the guard was asked %q for a client it must spare", q)
				}
			}
		})
	}
}

// ip-silent.can comes before the temporary ban, as in Synchronet (where it
// is checked at accept): a banned client in the list is closed as a
// silenced one, and the guard is never asked about it. POP3 checks in the
// same order (pop3d TestGuardSilentBeforeBan).
func TestGuardSilentBeforeBan(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Ban: true, Allowed: -1}
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) {
		stranger(c)
		c.IPSilent = pattern.MustParse(otherClient + "\n")
	}, withGuard(g))
	c := ts.dialFrom(t, otherClient)
	if line, err := c.readLine(); err == nil || line != "" {
		t.Fatalf("got %q, %v; want a silent close", line, err)
	}
	testkit.WaitFor(t, 10*time.Second, "the refusal in the log", func() bool { return strings.Contains(ts.log.String(), "(ip-silent.can)") })
	if strings.Contains(ts.log.String(), "TEMPORARY BAN") {
		t.Error("the ban was checked before ip-silent.can")
	}
	for _, q := range g.Record().Asked {
		if strings.HasPrefix(q, "ban ") {
			t.Errorf("the guard was asked %q about a silenced client", q)
		}
	}
}

// A client with failed logins waits for its greeting; the own address is
// not throttled.
func TestGuardThrottle(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Wait: 20 * time.Millisecond, Allowed: -1}
	ts := startServer(t, smtpd.MTA, nil, withGuard(g))
	ts.dialFrom(t, otherClient).expect("220 ")
	if !strings.Contains(ts.log.String(), "Throttling suspicious connection from: 127.0.0.2 (3 login attempts)") {
		t.Error("the throttle is not logged")
	}
	ts.dialFrom(t, "127.0.0.1").expect("220 ")
	if got := strings.Join(g.Record().Asked, ","); got != "ban 127.0.0.2,throttle 127.0.0.2" {
		t.Errorf("guard queries %q", got)
	}
}

// Shutdown cuts a throttle delay short: the client gets 421 at once
// instead of a greeting when the delay is over.
func TestGuardThrottleEndsAtShutdown(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Wait: time.Hour, Allowed: -1}
	ts := startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.MaxInactivity = time.Hour }, withGuard(g))
	c := ts.dialFrom(t, otherClient)
	testkit.WaitFor(t, 10*time.Second, "the session to throttle", func() bool { return strings.Contains(ts.log.String(), "Throttling") })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	c.expect("421 4.3.2 Service shutting down")
}

// Each command line counts toward the rate limit, AUTH exchange lines and
// message text do not; over the limit the client gets 421 and is
// disconnected. The own address is limited too; ipfilter_exempt.cfg is not.
func TestGuardRateLimit(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: 5}
	ts := startServer(t, smtpd.MTA, nil, withGuard(g))
	c := ts.dialFrom(t, "127.0.0.1")
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	c.cmd("AUTH LOGIN", "334 ")
	c.cmd(base64.StdEncoding.EncodeToString([]byte("sysop")), "334 ")
	c.cmd(base64.StdEncoding.EncodeToString([]byte("Secret1")), "235 ")
	c.cmd("MAIL FROM:<sysop@bbs.example>", "250 ")
	c.cmd("RCPT TO:<guest@bbs.example>", "250 ")
	c.cmd("DATA", "354 ")
	c.cmd("Subject: many lines\r\n\r\n1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\r\n.", "250 ")
	c.cmd("NOOP", "421 4.7.0 too many requests, try again later")
	c.expectClosed()
	if n := len(g.Record().Requests); n != 6 {
		t.Errorf("%d requests counted, want 6 (EHLO AUTH MAIL RCPT DATA NOOP)", n)
	}

	exempt := &testkit.Guard{Allowed: 0}
	ts = startServer(t, smtpd.MTA, func(c *smtpd.Config) { c.IPFilterExempt = pattern.MustParse("127.0.0.1\n") }, withGuard(exempt))
	c = ts.dialFrom(t, "127.0.0.1")
	c.expect("220 ")
	c.cmd("NOOP", "250 ")
	if n := len(exempt.Record().Requests); n != 0 {
		t.Errorf("an exempt client's commands were counted %d times", n)
	}
}

// A failed AUTH is reported with the user, method, protocol, the
// forward-confirmed host name and what was tried (so repeats can be told
// apart); a successful one clears the address.
func TestGuardAuthReports(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: -1}
	ts := startServer(t, smtpd.MTA, nil, withGuard(g))

	c := ts.dialFrom(t, otherClient)
	c.expect("220 ")
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00sysop\x00wrong-pw")), "535 ")
	c.expectClosed()

	c = ts.dialFrom(t, "127.0.0.1")
	c.expect("220 ")
	ch := c.cmd("AUTH CRAM-MD5", "334 ")
	challenge, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(ch, "334 "))
	resp := "guest " + fmt.Sprintf("%032x", challenge[:4])
	c.cmd(base64.StdEncoding.EncodeToString([]byte(resp)), "535 ")
	c.expectClosed()

	c = ts.dialFrom(t, otherClient)
	c.expect("220 ")
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00guest\x00guestpw")), "235 ")

	got := g.Record()
	if len(got.Failed) != 2 {
		t.Fatalf("failures reported: %+v", got.Failed)
	}
	plain, cram := got.Failed[0], got.Failed[1]
	if plain.Protocol != "SMTP" || plain.IP != otherClient || plain.User != "sysop" || plain.Method != "PLAIN" ||
		plain.Password != "wrong-pw" || plain.Digest || plain.Local || plain.Port == 0 || plain.Host != "" {
		t.Errorf("PLAIN failure reported as %+v", plain)
	}
	if cram.User != "guest" || cram.Method != "CRAM-MD5" || !cram.Digest || cram.Password != resp[len("guest "):] ||
		!cram.Local || cram.Host != "client.example" {
		t.Errorf("CRAM-MD5 failure from the own address reported as %+v", cram)
	}
	if len(got.Succeeded) != 1 || got.Succeeded[0] != otherClient {
		t.Errorf("successful logins reported: %q", got.Succeeded)
	}
	if strings.Contains(ts.log.String(), "wrong-pw") {
		t.Error("the password is in the log")
	}
	// Each check from 127.0.0.2 is held in the guard until its outcome is
	// reported, so the next check from the address sees it; the server's
	// own address is never banned and is not held.
	want := "begin 127.0.0.2,failed 127.0.0.2,end 127.0.0.2,failed 127.0.0.1,begin 127.0.0.2,succeeded 127.0.0.2,end 127.0.0.2"
	if ev := strings.Join(got.Events, ","); ev != want {
		t.Errorf("guard events %q, want %q", ev, want)
	}
}

// A client banned after it connected (it opened many connections before
// its guesses ran out) gets no more guesses on the connections it holds:
// even the right password fails, and the server closes.
func TestGuardBanBeforeCredentials(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: -1}
	ts := startServer(t, smtpd.MTA, nil, withGuard(g))
	c := ts.dialFrom(t, otherClient)
	c.expect("220 ")
	g.SetBan(true)
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00guest\x00guestpw")), "535 ")
	c.expectClosed()
	if got := g.Record(); len(got.Succeeded) != 0 {
		t.Errorf("a banned client logged in: %q", got.Succeeded)
	}
}

// banningAuth is the fake Authenticator, except that the client's address
// becomes banned while its password is checked (a check from another
// connection of the same client failed meanwhile).
type banningAuth struct {
	fakeAuth
	g *testkit.Guard
}

func (a banningAuth) Authenticate(ctx context.Context, login, password string) (envelope.Identity, error) {
	a.g.SetBan(true)
	return a.fakeAuth.Authenticate(ctx, login, password)
}

// A ban that begins while the password is checked wins over the right
// password: the ban is asked again once the check is over.
func TestGuardBanDuringCheck(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: -1}
	ts := startServer(t, smtpd.MTA, nil, withGuard(g), func(d *smtpd.Deps) { d.Auth = banningAuth{g: g} })
	c := ts.dialFrom(t, otherClient)
	c.expect("220 ")
	c.cmd("AUTH PLAIN "+base64.StdEncoding.EncodeToString([]byte("\x00guest\x00guestpw")), "535 ")
	c.expectClosed()
	if got := g.Record(); len(got.Succeeded) != 0 {
		t.Errorf("a client banned during the check logged in: %q", got.Succeeded)
	}
}
