package route_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

// wildcardAliases are alias.cfg lines whose value keeps the client's text:
// the configurations through which a stranger once relayed.
var wildcardAliases = []route.Alias{
	{Name: "*.bbs", Value: "*"},
	{Name: "*@old2.test", Value: "*"},
	{Name: "*.fwd", Value: "*@example.net"},
}

// An alias.cfg result built from the client's text never leaves the system
// for a stranger: it goes through the relay decision like a typed address.
// A mailbox with a second unquoted '@' is refused outright. Every form here
// was accepted and queued for a foreign domain before.
func TestAliasNeverRelaysClientText(t *testing.T) {
	t.Parallel()
	r := newResolver(t, func(c *route.Config) { c.Aliases = append(wildcardAliases, c.Aliases...) })
	bad := func(arg string) rcase {
		return rcase{name: arg, q: mail(arg), code: 553, err: envelope.ErrSyntax}
	}
	relay := func(arg string) rcase {
		return rcase{name: arg, q: mail(arg), code: 550, err: envelope.ErrRelayDenied, close: true}
	}
	runCases(t, r, []rcase{
		bad("<victim@evil.example.bbs@bbs.test>"),
		bad("<victim@evil.example@old2.test>"),
		bad("<victim@evil.example.@old2.test>"),
		bad("<@relay.example:victim@evil.example@old2.test>"),
		bad("<@[IPv6:::1],@x:victim@evil.example.bbs@bbs.test>"),
		bad(`"joe" <victim@evil.example@old2.test>`),
		bad("victim@evil.example@old2.test"),
		bad("<forward:victim@evil.example@old2.test>"),
		relay(`<"victim@evil.example.bbs"@bbs.test>`),
		relay(`<"victim@evil.example"@old2.test>`),
		relay(`<"victim@f1.n2.z3.fidonet"@old2.test>`),
		relay("<victim.fwd@bbs.test>"),
		relay("<victim@evil.example.bbs>"),
		unknown("percent", "<victim%evil.example.bbs@bbs.test>"),
		unknown("percent whole", "<victim%evil.example@old2.test>"),
		unknown("bang", "<evil.example!victim.bbs@bbs.test>"),
		unknown("bang whole", "<evil.example!victim@old2.test>"),
	})
	// A session that may relay still gets the destination checks.
	may := func(arg string) envelope.RcptQuery { q := mail(arg); q.MayRelay = true; return q }
	runCases(t, r, []rcase{
		{name: "relay allowed", q: may(`<"victim@evil.example"@old2.test>`),
			want: envelope.Rcpt{Kind: envelope.KindRemote, To: "victim@evil.example@old2.test", NetType: envelope.NetInternet, NetAddr: "victim@evil.example", ForwardPath: `<"victim@evil.example"@old2.test>`}},
		{name: "literal through alias", q: may(`<"victim@[127.0.0.1]:2525"@old2.test>`), code: 550, err: envelope.ErrBadDestination},
	})
}

// A source route is ignored (RFC 5321 §4.1.1.3), so it cannot hide the
// real mailbox.
func TestSourceRouteDropped(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	runCases(t, r, []rcase{
		{name: "route to local", q: mail("<@relay.example,@b.example:digital.man@bbs.test>"),
			want: mailbox(dm, "Digital Man", "<@relay.example,@b.example:digital.man@bbs.test>")},
		{name: "route to remote", q: mail("<@bbs.test:joe@example.org>"), code: 550, err: envelope.ErrRelayDenied, close: true},
	})
}

// What the sysop wrote out in full in alias.cfg is relayed for anyone and
// may name any host and port: that is how tests and gateways reach a peer
// on a private address.
func TestAliasExactForeignAddress(t *testing.T) {
	t.Parallel()
	r := newResolver(t, func(c *route.Config) {
		c.Aliases = append([]route.Alias{
			{Name: "gw", Value: "x@[127.0.0.1]:2525"},
			{Name: "*@gw.test", Value: "list@[10.0.0.1]"},
		}, c.Aliases...)
		c.Domains = route.Names{"other.test", "gw.test"}
	})
	remote := func(fp, to, addr string) envelope.Rcpt {
		return envelope.Rcpt{Kind: envelope.KindRemote, To: to, NetType: envelope.NetInternet, NetAddr: addr, ForwardPath: fp}
	}
	runCases(t, r, []rcase{
		{name: "local part", q: mail("<gw@bbs.test>"), want: remote("<gw@bbs.test>", "gw@bbs.test", "x@[127.0.0.1]:2525")},
		{name: "whole address", q: mail("<anyone@gw.test>"), want: remote("<anyone@gw.test>", "anyone@gw.test", "list@[10.0.0.1]")},
		{name: "existing forced relay", q: mail("<everyone@bbs.test>"), want: remote("<everyone@bbs.test>", "everyone@bbs.test", "list@example.com")},
	})
}

// Address literals and forced ports from clients reach only public unicast
// addresses on port 25, whoever sends them.
func TestDestinationChecks(t *testing.T) {
	t.Parallel()
	own := netip.MustParseAddr("203.0.114.9")
	r := newResolver(t, func(c *route.Config) { c.OwnAddr = func(ip netip.Addr) bool { return ip == own } })
	authed := func(arg string) envelope.RcptQuery { q := authed(arg); q.MayRelay = true; return q }
	var cases []rcase
	for _, d := range []string{
		"[127.0.0.1]:32999", "[127.0.0.1]", "127.0.0.1", "[::1]", "[IPv6:::1]", "[ipv6:::ffff:127.0.0.1]",
		"[10.1.2.3]", "[192.168.1.1]", "[172.16.0.1]", "[169.254.169.254]", "[fe80::1]", "[fd00::1]",
		"[0.0.0.0]", "[100.64.0.1]", "[224.0.0.1]", "[255.255.255.255]", "[203.0.114.9]", "203.0.114.9",
		"[8.8.8.8]:2525", "example.org:587", "example.org:x", "[8.8.8.8]x", "[not.an.ip]", "localhost", "a.LOCALHOST",
	} {
		arg := "<victim@" + d + ">"
		cases = append(cases, rcase{name: d, q: authed(arg), code: 550, err: envelope.ErrBadDestination})
	}
	ok := func(d string) rcase {
		arg := "<victim@" + d + ">"
		return rcase{name: d, q: authed(arg), want: envelope.Rcpt{Kind: envelope.KindRemote, To: "victim@" + d, NetType: envelope.NetInternet, NetAddr: "victim@" + d, ForwardPath: arg}}
	}
	cases = append(cases, ok("[8.8.8.8]"), ok("[8.8.8.8]:25"), ok("[IPv6:2001:4860::8888]"), ok("example.org:25"), ok("example.org"))
	runCases(t, r, cases)
}

// A user's own netmail address is text the user chose: forwarding to a
// destination the user could not type is not done, the mail stays here.
func TestForwardingDestinationChecked(t *testing.T) {
	t.Parallel()
	dir := newDir()
	dir.users = append(dir.users, route.User{Number: 40, Alias: "Mallory", NetMail: "m@[127.0.0.1]:2525", Forward: true})
	cfg := baseConfig(t)
	r := route.New(cfg, dir)
	rc, err := r.Resolve(context.Background(), mail("<mallory@bbs.test>"))
	if err != nil || rc.Kind != envelope.KindMailbox || rc.User != 40 {
		t.Fatalf("Resolve = %+v, %v; want Mallory's mailbox", rc, err)
	}
}
