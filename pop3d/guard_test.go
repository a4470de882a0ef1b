package pop3d_test

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl/pattern"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/internal/testkit"
	"github.com/bbsmail/bbsmail/pop3d"
)

var (
	_ pop3d.LoginGuard  = (*testkit.Guard)(nil)
	_ pop3d.RateLimiter = (*testkit.Guard)(nil)
)

func withGuard(g *testkit.Guard) func(*pop3d.Deps) {
	return func(d *pop3d.Deps) { d.Guard, d.RateLimit = g, g }
}

// otherClient is a loopback address that is not the server's own.
const otherClient = "127.0.0.2"

type pclient struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dialFrom(t *testing.T, addr, from string) *pclient {
	t.Helper()
	c := testkit.DialFrom(t, addr, from)
	return &pclient{t: t, c: c, r: bufio.NewReader(c)}
}

// line reads one reply line; "" with an error when the server closed.
func (p *pclient) line() (string, error) {
	l, err := p.r.ReadString('\n')
	return strings.TrimRight(l, "\r\n"), err
}

func (p *pclient) expect(prefix string) string {
	p.t.Helper()
	l, err := p.line()
	if err != nil || !strings.HasPrefix(l, prefix) {
		p.t.Fatalf("got %q, %v; want %q...", l, err, prefix)
	}
	return l
}

func (p *pclient) cmd(line, prefix string) string {
	p.t.Helper()
	if _, err := io.WriteString(p.c, line+"\r\n"); err != nil {
		p.t.Fatal(err)
	}
	return p.expect(prefix)
}

func (p *pclient) expectClosed() {
	p.t.Helper()
	if l, err := p.line(); err == nil || !testkit.IsClosed(err) {
		p.t.Fatalf("connection not closed: got %q, %v", l, err)
	}
}

// A banned client is told "-ERR Access denied." and disconnected; the
// server's own address and ipfilter_exempt.cfg are never banned.
func TestGuardBan(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, from, exempt string
		denied             bool
	}{
		{"banned", otherClient, "", true},
		{"own address", "127.0.0.1", "", false},
		{"ipfilter_exempt.cfg", otherClient, "127.0.0.2\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := &testkit.Guard{Ban: true, Allowed: -1}
			cfg := pop3d.Config{}
			if tc.exempt != "" {
				cfg.IPFilterExempt = pattern.MustParse(tc.exempt)
			}
			ts := startServer(t, cfg, false, false, withGuard(g))
			c := dialFrom(t, ts.addr, tc.from)
			if !tc.denied {
				c.expect("+OK bbs.test bbsmail POP3 Server")
				if asked := g.Record().Asked; strings.Contains(strings.Join(asked, ","), "ban") {
					t.Errorf("the guard was asked %q about a client it must spare", asked)
				}
				return
			}
			if l := c.expect("-ERR"); l != "-ERR Access denied." {
				t.Fatalf("got %q, want -ERR Access denied.", l)
			}
			c.expectClosed()
			if !strings.Contains(ts.log.String(), "TEMPORARY BAN (20 login attempts, last: root)") {
				t.Error("the ban is not logged")
			}
		})
	}
}

// ip-silent.can comes before the temporary ban, as in Synchronet (where it
// is checked at accept) and on the SMTP ports: a banned client in the list
// is closed without a word, not told "Access denied.", and the guard is
// never asked about it.
func TestGuardSilentBeforeBan(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Ban: true, Allowed: -1}
	cfg := pop3d.Config{IPSilent: pattern.MustParse(otherClient + "\n"), Loopback: func(net.IP) bool { return false }}
	ts := startServer(t, cfg, false, false, withGuard(g))
	c := dialFrom(t, ts.addr, otherClient)
	if l, err := c.line(); err == nil {
		t.Fatalf("got %q, want a silent close", l)
	}
	// The session logs the refusal before it closes the connection.
	if !strings.Contains(ts.log.String(), "(ip-silent.can)") {
		t.Error("the refusal is not logged")
	}
	if asked := g.Record().Asked; strings.Contains(strings.Join(asked, ","), "ban") {
		t.Errorf("the guard was asked %q about a silenced client", asked)
	}
}

// text/ip.can and text/host.can refuse a client before the greeting,
// ip-silent.can closes it without a word; ipfilter_exempt.cfg and
// loopback clients skip the lists.
func TestConnectionFilters(t *testing.T) {
	t.Parallel()
	notLoopback := func(net.IP) bool { return false }
	rdns := func(_ context.Context, ip string) ([]string, error) { return []string{"dialup.example."}, nil }
	fwd := func(_ context.Context, host string) ([]string, error) {
		if host == "dialup.example" {
			return []string{"127.0.0.1"}, nil
		}
		return nil, errors.New("NXDOMAIN")
	}
	for _, tc := range []struct {
		name string
		cfg  pop3d.Config
		want string // first line; "" = closed without a reply
	}{
		{"ip.can", pop3d.Config{IPFilter: pattern.MustParse("127.0.0.0/8\n"), Loopback: notLoopback}, "-ERR Access denied."},
		{"host.can", pop3d.Config{HostFilter: pattern.MustParse("*.example\n"), Loopback: notLoopback, LookupAddr: rdns, LookupHost: fwd}, "-ERR Access denied."},
		{"host.can without reverse DNS", pop3d.Config{HostFilter: pattern.MustParse("*.example\n"), Loopback: notLoopback, NoHostLookup: true, LookupAddr: rdns, LookupHost: fwd}, "+OK"},
		{"ip-silent.can", pop3d.Config{IPSilent: pattern.MustParse("127.0.0.1\n"), Loopback: notLoopback}, ""},
		{"exempt by host", pop3d.Config{IPFilter: pattern.MustParse("127.0.0.1\n"), IPFilterExempt: pattern.MustParse("dialup.example\n"), Loopback: notLoopback, LookupAddr: rdns, LookupHost: fwd}, "+OK"},
		{"loopback", pop3d.Config{IPFilter: pattern.MustParse("127.0.0.1\n"), IPSilent: pattern.MustParse("127.0.0.1\n")}, "+OK"},
		{"not listed", pop3d.Config{IPFilter: pattern.MustParse("192.0.2.1\n"), Loopback: notLoopback}, "+OK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, tc.cfg, false, false)
			c := dialFrom(t, ts.addr, "127.0.0.1")
			l, err := c.line()
			if tc.want == "" {
				if err == nil {
					t.Fatalf("got %q, want a silent close", l)
				}
				return
			}
			if !strings.HasPrefix(l, tc.want) {
				t.Fatalf("got %q, %v; want %q", l, err, tc.want)
			}
			if tc.want == "-ERR Access denied." {
				c.expectClosed()
			}
		})
	}
}

// The throttle is asked for other clients, not the own address, and
// Shutdown cuts its delay short.
func TestGuardThrottle(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Wait: 10 * time.Millisecond, Allowed: -1}
	ts := startServer(t, pop3d.Config{}, false, false, withGuard(g))
	dialFrom(t, ts.addr, otherClient).expect("+OK ")
	dialFrom(t, ts.addr, "127.0.0.1").expect("+OK ")
	if asked := g.Record().Asked; strings.Join(asked, ",") != "ban 127.0.0.2,throttle 127.0.0.2" {
		t.Errorf("guard queries %q", asked)
	}
	if !strings.Contains(ts.log.String(), "Throttling suspicious connection from: 127.0.0.2 (3 login attempts)") {
		t.Error("the throttle is not logged")
	}

	slow := &testkit.Guard{Wait: time.Hour, Allowed: -1}
	ts = startServer(t, pop3d.Config{MaxInactivity: time.Hour}, false, false, withGuard(slow))
	c := dialFrom(t, ts.addr, otherClient)
	testkit.WaitFor(t, ioTimeout, "the session to throttle", func() bool { return strings.Contains(ts.log.String(), "Throttling") })
	ts.stop(t)
	c.expect("-ERR [SYS/TEMP] Server shutting down")
}

// Commands after login count toward the rate limit; over it the client
// gets -ERR and is disconnected. Commands before login do not count.
func TestGuardRateLimit(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: 2}
	ts := startServer(t, pop3d.Config{}, false, false, withGuard(g))
	c := dialFrom(t, ts.addr, "127.0.0.1")
	c.expect("+OK ")
	c.cmd("CAPA", "+OK")
	for l, err := c.line(); l != "."; l, err = c.line() {
		if err != nil {
			t.Fatalf("CAPA list ended with %v", err)
		}
	}
	c.cmd("USER joe", "+OK")
	c.cmd("PASS Secret Word", "+OK joe has")
	c.cmd("STAT", "+OK 3")
	c.cmd("NOOP", "+OK")
	c.cmd("NOOP", "-ERR [SYS/TEMP] Too many requests")
	c.expectClosed()
	if n := len(g.Record().Requests); n != 3 {
		t.Errorf("%d commands counted, want 3 (STAT NOOP NOOP)", n)
	}
}

// A failed login is reported with protocol, user (without #nospam),
// method and what was tried; a successful one clears the address.
func TestGuardLoginReports(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: -1}
	ts := startServer(t, pop3d.Config{}, false, false, withGuard(g))

	c := dialFrom(t, ts.addr, otherClient)
	c.expect("+OK ")
	c.cmd("USER joe#nospam", "+OK")
	c.cmd("PASS wrong password", "-ERR [AUTH]")
	c.expectClosed()

	c = dialFrom(t, ts.addr, "127.0.0.1")
	greeting := c.expect("+OK ")
	challenge := regexp.MustCompile(`<[^>]+>`).FindString(greeting)
	sum := md5.Sum([]byte(challenge + "not the secret"))
	bad := hex.EncodeToString(sum[:])
	c.cmd("APOP alice "+bad, "-ERR [AUTH]")
	c.expectClosed()

	c = dialFrom(t, ts.addr, otherClient)
	c.expect("+OK ")
	c.cmd("USER alice", "+OK")
	c.cmd("PASS wonderland", "+OK alice has")

	rec := g.Record()
	failed, succeeded := rec.Failed, rec.Succeeded
	if len(failed) != 2 {
		t.Fatalf("failures reported: %+v", failed)
	}
	pass, apop := failed[0], failed[1]
	if pass.Protocol != "POP3" || pass.IP != otherClient || pass.User != "joe" || pass.Method != "USER/PASS" ||
		pass.Password != "wrong password" || pass.Digest || pass.Local || pass.Port == 0 {
		t.Errorf("USER/PASS failure reported as %+v", pass)
	}
	if apop.User != "alice" || apop.Method != "APOP" || !apop.Digest || apop.Password != bad || !apop.Local {
		t.Errorf("APOP failure from the own address reported as %+v", apop)
	}
	if len(succeeded) != 1 || succeeded[0] != otherClient {
		t.Errorf("successful logins reported: %q", succeeded)
	}
	if strings.Contains(ts.log.String(), "wrong password") {
		t.Error("the password is in the log")
	}
	// Each check from 127.0.0.2 is held in the guard until its outcome is
	// reported, so the next check from the address sees it; the server's
	// own address is never banned and is not held.
	ev := strings.Join(g.Record().Events, ",")
	if want := "begin 127.0.0.2,failed 127.0.0.2,end 127.0.0.2,failed 127.0.0.1,begin 127.0.0.2,succeeded 127.0.0.2,end 127.0.0.2"; ev != want {
		t.Errorf("guard events %q, want %q", ev, want)
	}
}

// A client banned after it connected gets no more guesses on the
// connections it already holds: even the right password fails.
func TestGuardBanBeforeCredentials(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: -1}
	ts := startServer(t, pop3d.Config{}, false, false, withGuard(g))
	c := dialFrom(t, ts.addr, otherClient)
	c.expect("+OK ")
	g.SetBan(true)
	c.cmd("USER alice", "+OK")
	c.cmd("PASS wonderland", "-ERR [AUTH]")
	c.expectClosed()
	if succeeded := g.Record().Succeeded; len(succeeded) != 0 {
		t.Errorf("a banned client logged in: %q", succeeded)
	}
}

// banningAuth wraps an Authenticator: the client's address becomes banned
// while its password is checked (a check from another connection of the
// same client failed meanwhile).
type banningAuth struct {
	pop3d.Authenticator
	g *testkit.Guard
}

func (a banningAuth) Authenticate(ctx context.Context, login, password string) (envelope.Identity, error) {
	a.g.SetBan(true)
	return a.Authenticator.Authenticate(ctx, login, password)
}

// A ban that begins while the password is checked wins over the right
// password: the ban is asked again once the check is over.
func TestGuardBanDuringCheck(t *testing.T) {
	t.Parallel()
	g := &testkit.Guard{Allowed: -1}
	ts := startServer(t, pop3d.Config{}, false, false, withGuard(g), func(d *pop3d.Deps) {
		d.Auth = banningAuth{Authenticator: d.Auth, g: g}
	})
	c := dialFrom(t, ts.addr, otherClient)
	c.expect("+OK ")
	c.cmd("USER alice", "+OK")
	c.cmd("PASS wonderland", "-ERR [AUTH]")
	c.expectClosed()
	if succeeded := g.Record().Succeeded; len(succeeded) != 0 {
		t.Errorf("a client banned during the check logged in: %q", succeeded)
	}
}
