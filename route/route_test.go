package route_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		arg           string
		addr          string
		forward, locl bool
	}{
		{"<joe@bbs.test>", "joe@bbs.test", false, false},
		{" <joe@bbs.test> NOTIFY=NEVER ", "joe@bbs.test", false, false},
		{`<"Digital Man"@bbs.test>`, "Digital Man@bbs.test", false, false},
		{`"Joe" <joe@bbs.test>`, "joe@bbs.test", false, false},
		{"<Forward:joe@bbs.test>", "joe@bbs.test", true, false},
		{"<forward:LOCAL:joe>", "joe", true, true},
		{"<local:forward:joe>", "forward:joe", false, true}, // forward: first, then local:
		{"joe", "joe", false, false},
		{"<>", "", false, false},
		{"<local:>", "", false, true},
	}
	for _, c := range cases {
		p := route.Parse(c.arg)
		if p.Addr != c.addr || p.Forward != c.forward || p.Local != c.locl {
			t.Errorf("Parse(%q) = %+v; want addr %q forward %v local %v", c.arg, p, c.addr, c.forward, c.locl)
		}
	}
}

// Rule 1: an argument with nothing left after the prefixes is refused.
func TestNoRecipient(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	runCases(t, r, []rcase{
		{name: "empty", q: mail("<>"), code: 500, text: "No recipient specified", err: envelope.ErrSyntax},
		{name: "prefixes only", q: mail("<forward:local:>"), code: 500, text: "No recipient specified"},
		{name: "blank", q: mail("  "), code: 500},
	})
}

// The seed's "Special Characters": punctuation is ignored in aliases.
func TestAliasIgnoresPunctuation(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	var cases []rcase
	for _, name := range []string{"digital.man", "digital_man", "digitalman", "d-i-g-i-t-a-l-man", "DIGITAL MAN", "'digital.man"} {
		fp := "<" + name + "@bbs.test>"
		cases = append(cases, rcase{name: name, q: mail(fp), want: mailbox(dm, "Digital Man", fp)})
	}
	cases = append(cases,
		rcase{name: "no domain", q: mail("<digital.man>"), want: mailbox(dm, "Digital Man", "<digital.man>")},
		rcase{name: "quoted", q: mail(`<"Digital Man"@bbs.test>`), want: mailbox(dm, "Digital Man", `<"Digital Man"@bbs.test>`)},
		unknown("stranger", "<nobody@bbs.test>"),
	)
	runCases(t, r, cases)
}

// Real names, with '.' as space, only when "Receive E-mail by Real Name".
func TestRealNames(t *testing.T) {
	t.Parallel()
	off := newResolver(t, nil)
	runCases(t, off, []rcase{
		unknown("dots off", "<rob.swindell@bbs.test>"),
		unknown("space off", "<Rob Swindell@bbs.test>"),
	})
	on := newResolver(t, func(c *route.Config) { c.RealNames = true })
	runCases(t, on, []rcase{
		{name: "dots", q: mail("<rob.swindell@bbs.test>"), want: mailbox(dm, "Digital Man", "<rob.swindell@bbs.test>")},
		{name: "as given", q: mail("<ROB SWINDELL@bbs.test>"), want: mailbox(dm, "Digital Man", "<ROB SWINDELL@bbs.test>")},
		{name: "alias still works", q: mail("<digital_man@bbs.test>"), want: mailbox(dm, "Digital Man", "<digital_man@bbs.test>")},
		unknown("underscores are not spaces", "<rob_swindell@bbs.test>"),
	})
}

// Rule 2: alias.cfg, whole address first, then the local part.
func TestAliasCfg(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	remote := func(to, addr, fp string) envelope.Rcpt {
		return envelope.Rcpt{Kind: envelope.KindRemote, To: to, NetType: envelope.NetInternet, NetAddr: addr, ForwardPath: fp}
	}
	runCases(t, r, []rcase{
		{name: "exact whole address", q: mail("<INFO@bbs.test>"), want: mailbox(dm, "Digital Man", "<INFO@bbs.test>")},
		{name: "whole address needs the domain", q: mail("<info@other.test>"), code: 550, err: envelope.ErrUnknownUser},
		{name: "leading star substitution", q: mail("<digital.man@OLD.test>"), want: mailbox(dm, "Digital Man", "<digital.man@OLD.test>")},
		{name: "leading star to a name", q: mail("<anything@legacy.test>"), want: mailbox(dm, "Digital Man", "<anything@legacy.test>")},
		{name: "local part to number", q: mail("<root@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<root@bbs.test>")},
		{name: "local part to number 2", q: mail("<Webmaster@mail.bbs.test>"), want: mailbox(dm, "Digital Man", "<Webmaster@mail.bbs.test>")},
		{name: "number of no user", q: mail("<ghost@bbs.test>"), code: 550, text: "Unknown User: <ghost@bbs.test>", err: envelope.ErrUnknownUser},
		{name: "number of deleted user", q: mail("<gone@bbs.test>"), code: 550, err: envelope.ErrUnknownUser},
		{name: "local part to sub", q: mail("<cnnreport@bbs.test>"),
			want: envelope.Rcpt{Kind: envelope.KindSub, Sub: "DOVE-DEB", ForwardPath: "<cnnreport@bbs.test>"}},
		{name: "whole address forced relay, unauthenticated", q: mail("<everyone@bbs.test>"),
			want: remote("everyone@bbs.test", "list@example.com", "<everyone@bbs.test>")},
		{name: "local part forced relay", q: mail("<outside@bbs.test>"),
			want: remote("outside@bbs.test", "someone@example.com", "<outside@bbs.test>")},
		{name: "local part to QWK route", q: mail("<vertsysop@bbs.test>"),
			want: envelope.Rcpt{Kind: envelope.KindQWK, To: "sysop", NetType: envelope.NetQWK, NetAddr: "VERT", ForwardPath: "<vertsysop@bbs.test>"}},
		{name: "no numbers without alias or option", q: mail("<2@bbs.test>"), code: 550, err: envelope.ErrUnknownUser},
	})
}

// Alias.cfg rules on their own: first match wins, and only a leading '*'.
func TestAliasFirstMatchWins(t *testing.T) {
	t.Parallel()
	r := newResolver(t, func(c *route.Config) {
		c.Aliases = []route.Alias{
			{Name: "; comment", Value: "ignored"},
			{Name: "*@bbs.test", Value: "Online Olga"},
			{Name: "digital.man@bbs.test", Value: "Sysop Sam"},
			{Name: "dig*", Value: "Sysop Sam"},
		}
	})
	runCases(t, r, []rcase{
		{name: "earlier wildcard wins", q: mail("<digital.man@bbs.test>"), want: mailbox(olga, "Online Olga", "<digital.man@bbs.test>")},
		{name: "inner star is literal", q: mail("<digital.man@other.test>"), want: mailbox(dm, "Digital Man", "<digital.man@other.test>")},
	})
}

// Rule 3: relaying.
func TestRelay(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	relay := func(arg string) envelope.RcptQuery { q := mail(arg); q.MayRelay = true; return q }
	runCases(t, r, []rcase{
		{name: "unauthenticated refused", q: mail("<joe@example.org>"), code: 550, text: "Relay not allowed.", err: envelope.ErrRelayDenied, close: true},
		{name: "authenticated without relay right refused", q: authed("<joe@example.org>"), code: 550, err: envelope.ErrRelayDenied, close: true},
		{name: "may relay", q: relay("<Joe@Example.org>"),
			want: envelope.Rcpt{Kind: envelope.KindRemote, To: "Joe@Example.org", NetType: envelope.NetInternet, NetAddr: "Joe@Example.org", ForwardPath: "<Joe@Example.org>"}},
		{name: "system address is local", q: mail("<digital.man@BBS.TEST>"), want: mailbox(dm, "Digital Man", "<digital.man@BBS.TEST>")},
		{name: "host name is local", q: mail("<digital.man@mail.bbs.test>"), want: mailbox(dm, "Digital Man", "<digital.man@mail.bbs.test>")},
		{name: "domains.cfg is local", q: mail("<digital.man@other.test>"), want: mailbox(dm, "Digital Man", "<digital.man@other.test>")},
		{name: "matching port is local", q: mail("<digital.man@bbs.test:25>"), want: mailbox(dm, "Digital Man", "<digital.man@bbs.test:25>")},
		{name: "other port is not local", q: mail("<digital.man@bbs.test:2525>"), code: 550, text: "Relay not allowed.", close: true},
		{name: "other port refused even when allowed to relay", q: relay("<digital.man@bbs.test:2525>"), code: 550, err: envelope.ErrBadDestination},
		{name: "sub-domain is not local", q: mail("<digital.man@x.bbs.test>"), code: 550, err: envelope.ErrRelayDenied, close: true},
		{name: "telegram ignores domain", q: envelope.RcptQuery{Arg: "<digital.man@example.org>", Telegram: true},
			want: mailbox(dm, "Digital Man", "<digital.man@example.org>")},
		{name: "telegram to an alias off the system", q: envelope.RcptQuery{Arg: "<outside>", Telegram: true},
			code: 550, text: "Unknown User: <outside>", err: envelope.ErrUnknownUser},
		{name: "telegram to a QWK route", q: envelope.RcptQuery{Arg: "<vertsysop>", SendOnly: true},
			code: 550, text: "Unknown User: <vertsysop>", err: envelope.ErrUnknownUser},
	})

	withAllow := newResolver(t, func(c *route.Config) { c.AllowRelay = true })
	runCases(t, withAllow, []rcase{
		{name: "553 hint with ALLOW_RELAY", q: mail("<joe@example.org>"), code: 553,
			text: "Relaying through this server requires authentication.  Please authenticate before sending.", err: envelope.ErrRelayDenied, close: true},
	})
}

// IsLocal on its own, as the wiring and sendmail use it.
func TestIsLocal(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	cases := []struct {
		domain string
		port   int
		want   bool
	}{
		{"bbs.test", 25, true},
		{"Mail.BBS.test", 587, true},
		{"other.test", 25, true},
		{"bbs.test:587", 587, true},
		{"bbs.test:25", 587, false},
		{"bbs.test:25", 0, true},
		{"bbs.test:x", 25, false},
		{"example.org", 25, false},
		{"", 25, false},
	}
	for _, c := range cases {
		if got := r.IsLocal(c.domain, c.port); got != c.want {
			t.Errorf("IsLocal(%q, %d) = %v; want %v", c.domain, c.port, got, c.want)
		}
	}
}

// The seed's FidoNet special address.
func TestFidoNet(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	fido := func(to, addr, fp string) envelope.Rcpt {
		return envelope.Rcpt{Kind: envelope.KindFido, To: to, NetType: envelope.NetFido, NetAddr: addr, ForwardPath: fp}
	}
	runCases(t, r, []rcase{
		{name: "node", q: authed("<rob.swindell@f705.n103.z1.fidonet>"), want: fido("rob swindell", "1:103/705", "<rob.swindell@f705.n103.z1.fidonet>")},
		{name: "point", q: authed("<rob_swindell@p2.f705.n103.z1.fidonet>"), want: fido("rob swindell", "1:103/705.2", "<rob_swindell@p2.f705.n103.z1.fidonet>")},
		{name: "upper case", q: authed("<Rob@F705.N103.Z1.FIDONET>"), want: fido("Rob", "1:103/705", "<Rob@F705.N103.Z1.FIDONET>")},
		{name: "zone 0", q: authed("<rob@f705.n103.z0.fidonet>"), code: 550, err: envelope.ErrRelayDenied, close: true},
		{name: "malformed", q: authed("<rob@n103.z1.fidonet>"), code: 550, err: envelope.ErrRelayDenied, close: true},
		{name: "unauthenticated", q: mail("<rob@f705.n103.z1.fidonet>"), code: 550, err: envelope.ErrRelayDenied, close: true},
		{name: "restricted user", q: func() envelope.RcptQuery {
			q := authed("<rob@f705.n103.z1.fidonet>")
			q.Auth.MayRelay = false
			return q
		}(), code: 550, err: envelope.ErrRelayDenied, close: true},
	})
	// Without an FTN address of its own the system knows no .fidonet, and
	// never hands it to the Internet queue (which would look it up).
	noFTN := newResolver(t, func(c *route.Config) { c.FidoAddrs = nil })
	q := authed("<rob@f705.n103.z1.fidonet>")
	q.MayRelay = true
	runCases(t, noFTN, []rcase{
		{name: "no system FTN address", q: q, code: 550, text: "Relay not allowed.", err: envelope.ErrRelayDenied, close: true},
	})
}

// Netmail to one of our own FTN addresses is delivered here, to the user
// the tosser's lookup (FidoUser) names, with the mailbox checks; a name it
// does not know is refused.
func TestFidoNetOwnAddress(t *testing.T) {
	t.Parallel()
	r := newResolver(t, func(c *route.Config) {
		c.FidoAddrs = []string{"1:103/1@fidonet", "2:5/7.3"}
		c.FidoUser = func(_ context.Context, name string) (uint32, bool, error) {
			switch name {
			case "rob swindell":
				return dm, true, nil
			case "fran":
				return full, true, nil
			}
			return 0, false, nil
		}
	})
	box := func(user uint32, alias, fp string) envelope.Rcpt {
		return envelope.Rcpt{Kind: envelope.KindMailbox, To: alias, User: user, ForwardPath: fp}
	}
	runCases(t, r, []rcase{
		{name: "node", q: authed("<rob.swindell@f1.n103.z1.fidonet>"), want: box(dm, "Digital Man", "<rob.swindell@f1.n103.z1.fidonet>")},
		{name: "point 0", q: authed("<rob.swindell@p0.f1.n103.z1.fidonet>"), want: box(dm, "Digital Man", "<rob.swindell@p0.f1.n103.z1.fidonet>")},
		{name: "our point", q: authed("<rob.swindell@p3.f7.n5.z2.fidonet>"), want: box(dm, "Digital Man", "<rob.swindell@p3.f7.n5.z2.fidonet>")},
		{name: "unknown", q: authed("<nobody@f1.n103.z1.fidonet>"), code: 550, err: envelope.ErrUnknownUser},
		{name: "mailbox full", q: authed("<fran@f1.n103.z1.fidonet>"), code: 450},
		{name: "another node", q: authed("<rob@f2.n103.z1.fidonet>"), want: envelope.Rcpt{Kind: envelope.KindFido, To: "rob",
			NetType: envelope.NetFido, NetAddr: "1:103/2", ForwardPath: "<rob@f2.n103.z1.fidonet>"}},
		{name: "unauthenticated", q: mail("<rob.swindell@f1.n103.z1.fidonet>"), code: 550, err: envelope.ErrRelayDenied, close: true},
	})
}

// Rule 4: QWKnet routes.
func TestQWKRoute(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	qwk := func(to, route, fp string) envelope.Rcpt {
		return envelope.Rcpt{Kind: envelope.KindQWK, To: to, NetType: envelope.NetQWK, NetAddr: route, ForwardPath: fp}
	}
	runCases(t, r, []rcase{
		{name: "hub", q: mail("<vert!digital.man@bbs.test>"), want: qwk("digital.man", "vert", "<vert!digital.man@bbs.test>")},
		{name: "full route", q: mail("<VERT/DOVE!joe@bbs.test>"), want: qwk("joe", "VERT/DOVE", "<VERT/DOVE!joe@bbs.test>")},
		{name: "no domain", q: mail("<vert!joe>"), want: qwk("joe", "vert", "<vert!joe>")},
		unknown("not a hub", "<nohub!joe@bbs.test>"),
		unknown("empty user", "<vert!@bbs.test>"),
		{name: "not for telegrams", q: envelope.RcptQuery{Arg: "<vert!joe>", Telegram: true}, code: 550, err: envelope.ErrUnknownUser},
	})
}

// Rule 6: sub:<code>.
func TestSubBoards(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	runCases(t, r, []rcase{
		{name: "code any case", q: mail("<sub:dove-deb@bbs.test>"), want: envelope.Rcpt{Kind: envelope.KindSub, Sub: "DOVE-DEB", ForwardPath: "<sub:dove-deb@bbs.test>"}},
		{name: "no domain", q: mail("<SUB:LOCAL-GEN>"), want: envelope.Rcpt{Kind: envelope.KindSub, Sub: "local-gen", ForwardPath: "<SUB:LOCAL-GEN>"}},
		{name: "unknown code", q: mail("<sub:nosuch@bbs.test>"), code: 550, text: "Unknown sub-board: nosuch", err: envelope.ErrUnknownSub},
		{name: "telegram", q: envelope.RcptQuery{Arg: "<sub:dove-deb>", Telegram: true}, code: 550, err: envelope.ErrUnknownUser},
	})
	withPostTo := newResolver(t, func(c *route.Config) { c.PostTo = "All" })
	runCases(t, withPostTo, []rcase{
		{name: "PostTo", q: mail("<cnnreport@bbs.test>"), want: envelope.Rcpt{Kind: envelope.KindSub, Sub: "DOVE-DEB", To: "All", ForwardPath: "<cnnreport@bbs.test>"}},
	})
	// MayPost hears the sub-board's configured code (whatever case the
	// address used) and its refusal is the answer.
	guarded := newResolver(t, func(c *route.Config) {
		c.MayPost = func(_ context.Context, sub string, q envelope.RcptQuery) error {
			if sub != "DOVE-DEB" {
				return fmt.Errorf("MayPost asked about %q, want the configured code DOVE-DEB", sub)
			}
			if q.Auth == nil {
				return &envelope.Reply{Code: 550, Enhanced: "5.7.1", Text: "Insufficient access", Err: envelope.ErrNoAccess}
			}
			return nil
		}
	})
	runCases(t, guarded, []rcase{
		{name: "post refused", q: mail("<sub:dove-deb@bbs.test>"), code: 550, text: "Insufficient access", err: envelope.ErrNoAccess},
		{name: "post allowed", q: envelope.RcptQuery{Arg: "<sub:dove-deb@bbs.test>", Auth: &envelope.Identity{User: 1}},
			want: envelope.Rcpt{Kind: envelope.KindSub, Sub: "DOVE-DEB", ForwardPath: "<sub:dove-deb@bbs.test>"}},
	})
}
