package route_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

// Rule 7: sysop, postmaster and the QWK-ID only with ALLOW_SYSOP_ALIASES;
// the sysop's name always.
func TestSysopAliases(t *testing.T) {
	t.Parallel()
	off := newResolver(t, func(c *route.Config) { c.Aliases = nil })
	runCases(t, off, []rcase{
		unknown("sysop off", "<sysop@bbs.test>"),
		unknown("postmaster off", "<postmaster@bbs.test>"),
		unknown("qwkid off", "<mybbs@bbs.test>"),
		{name: "sysop name", q: mail("<sam.the.sysop@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<sam.the.sysop@bbs.test>")},
		{name: "sysop name as given", q: mail("<Sam the Sysop@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<Sam the Sysop@bbs.test>")},
	})
	on := newResolver(t, func(c *route.Config) { c.Aliases = nil; c.SysopAliases = true })
	runCases(t, on, []rcase{
		{name: "sysop", q: mail("<SysOp@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<SysOp@bbs.test>")},
		{name: "postmaster", q: mail("<postmaster@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<postmaster@bbs.test>")},
		{name: "qwkid", q: mail("<MyBBS@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<MyBBS@bbs.test>")},
		unknown("abuse is no sysop alias", "<abuse@bbs.test>"),
	})
}

// The stock alias.cfg maps the administrative names to user #1.
func TestStockAliasCfg(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join("..", "..", "shared", "synchronet-sample", "ctrl", "alias.cfg"))
	if err != nil {
		t.Skipf("stock sample not available: %v", err)
	}
	defer f.Close()
	var aliases []route.Alias
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && !strings.HasPrefix(fields[0], ";") {
			aliases = append(aliases, route.Alias{Name: fields[0], Value: fields[1]})
		}
	}
	if len(aliases) == 0 {
		t.Fatal("no aliases read from the stock alias.cfg")
	}
	r := newResolver(t, func(c *route.Config) { c.Aliases = aliases })
	var cases []rcase
	for _, name := range []string{"sysop", "root", "abuse", "sysadmin", "webmaster", "postmaster"} {
		fp := "<" + name + "@bbs.test>"
		cases = append(cases, rcase{name: name, q: mail(fp), want: mailbox(sysop, "Sysop Sam", fp)})
	}
	runCases(t, r, cases)
}

// Rule 7 and ALLOW_RX_BY_NUMBER: 1@bbs.test reaches #1 only with the option.
func TestRxByNumber(t *testing.T) {
	t.Parallel()
	off := newResolver(t, nil)
	runCases(t, off, []rcase{unknown("off", "<1@bbs.test>")})
	on := newResolver(t, func(c *route.Config) { c.RxByNumber = true })
	runCases(t, on, []rcase{
		{name: "on", q: mail("<1@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<1@bbs.test>")},
		{name: "leading zeros", q: mail("<0002@bbs.test>"), want: mailbox(dm, "Digital Man", "<0002@bbs.test>")},
		unknown("deleted", "<3@bbs.test>"),
		unknown("absent", "<99@bbs.test>"),
		unknown("zero", "<0@bbs.test>"),
		unknown("too big", "<99999999999@bbs.test>"),
	})
}

// The seed's name#tag special address and data/user/NNNN.smtpblock.
func TestTags(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	runCases(t, r, []rcase{
		{name: "tag not listed", q: mail("<tagged.tom#shop@bbs.test>"), want: mailbox(tom, "Tagged Tom", "<tagged.tom#shop@bbs.test>")},
		{name: "tag listed", q: mail("<tagged.tom#spam@bbs.test>"), code: 550, text: "Unknown User: <tagged.tom#spam@bbs.test>", err: envelope.ErrBlockedTag},
		{name: "tag listed other case, metadata ignored", q: mail("<tagged.tom#Sold@bbs.test>"), code: 550, err: envelope.ErrBlockedTag},
		{name: "comment is no tag", q: mail("<tagged.tom#; tags Tom gave out and withdrew@bbs.test>"), want: mailbox(tom, "Tagged Tom", "<tagged.tom#; tags Tom gave out and withdrew@bbs.test>")},
		{name: "user without block file", q: mail("<digital.man#spam@bbs.test>"), want: mailbox(dm, "Digital Man", "<digital.man#spam@bbs.test>")},
		{name: "empty tag", q: mail("<tagged.tom#@bbs.test>"), want: mailbox(tom, "Tagged Tom", "<tagged.tom#@bbs.test>")},
		unknown("unknown name with tag", "<nobody#spam@bbs.test>"),
		{name: "contains pattern", q: mail("<tagged.tom#summer-PROMO-2024@bbs.test>"), code: 550, err: envelope.ErrBlockedTag},
	})
}

// Rule 8: DefaultUser takes only what matched no user.
func TestDefaultUser(t *testing.T) {
	t.Parallel()
	r := newResolver(t, func(c *route.Config) { c.DefaultUser = "digital.man" })
	runCases(t, r, []rcase{
		{name: "unknown name", q: mail("<nobody@bbs.test>"), want: mailbox(dm, "Digital Man", "<nobody@bbs.test>")},
		{name: "unknown name with tag", q: mail("<nobody#spam@bbs.test>"), want: mailbox(dm, "Digital Man", "<nobody#spam@bbs.test>")},
		{name: "blocked tag on known user", q: mail("<tagged.tom#spam@bbs.test>"), code: 550, err: envelope.ErrBlockedTag},
		{name: "known user unaffected", q: mail("<online.olga@bbs.test>"), want: mailbox(olga, "Online Olga", "<online.olga@bbs.test>")},
		{name: "alias to a deleted number goes to the default", q: mail("<gone@bbs.test>"), want: mailbox(dm, "Digital Man", "<gone@bbs.test>")},
		{name: "relay still refused", q: mail("<nobody@example.org>"), code: 550, err: envelope.ErrRelayDenied, close: true},
	})
	sysopDefault := newResolver(t, func(c *route.Config) { c.DefaultUser = "postmaster" })
	runCases(t, sysopDefault, []rcase{
		{name: "sysop alias as default without the option", q: mail("<nobody@bbs.test>"), want: mailbox(sysop, "Sysop Sam", "<nobody@bbs.test>")},
	})
	missing := newResolver(t, func(c *route.Config) { c.DefaultUser = "no such user" })
	runCases(t, missing, []rcase{unknown("default user missing", "<nobody@bbs.test>")})
}

// Rule 9: deleted and inactive users receive nothing.
func TestDeletedInactive(t *testing.T) {
	t.Parallel()
	r := newResolver(t, func(c *route.Config) { c.RealNames = true })
	runCases(t, r, []rcase{
		unknown("deleted", "<deleted.dave@bbs.test>"),
		unknown("inactive", "<idle.ian@bbs.test>"),
		{name: "forward path quoted trimmed, parameters kept", q: mail("  <Idle_Ian@bbs.test> NOTIFY=NEVER "),
			code: 550, text: "Unknown User: <Idle_Ian@bbs.test> NOTIFY=NEVER", err: envelope.ErrUnknownUser},
	})
}

// Rule 10: closed mailboxes and MaxMsgsWaiting, for mail only.
func TestMailboxChecks(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	telegram := envelope.RcptQuery{Arg: "<full.fran>", Telegram: true}
	runCases(t, r, []rcase{
		{name: "closed to unauthenticated", q: mail("<closed.carl@bbs.test>"), code: 550, text: "Closed mailbox: <closed.carl@bbs.test>", err: envelope.ErrMailboxClosed},
		{name: "open to authenticated", q: authed("<closed.carl@bbs.test>"), want: mailbox(closed, "Closed Carl", "<closed.carl@bbs.test>")},
		{name: "full", q: mail("<full.fran@bbs.test>"), code: 450, text: "Mailbox full: <full.fran@bbs.test>", err: envelope.ErrMailboxFull},
		{name: "one below the limit", q: mail("<digital.man@bbs.test>"), want: mailbox(dm, "Digital Man", "<digital.man@bbs.test>")},
		{name: "W-exempt", q: mail("<exempt.eve@bbs.test>"), want: mailbox(exempt, "Exempt Eve", "<exempt.eve@bbs.test>")},
		{name: "telegram to full mailbox", q: telegram, want: mailbox(full, "Full Fran", "<full.fran>")},
	})
	unlimited := newResolver(t, func(c *route.Config) { c.MaxMsgsWaiting = 0 })
	runCases(t, unlimited, []rcase{
		{name: "no limit", q: mail("<full.fran@bbs.test>"), want: mailbox(full, "Full Fran", "<full.fran@bbs.test>")},
	})
}

// Rule 11: SEND needs the user online; SOML and SAML do not.
func TestSendOnline(t *testing.T) {
	t.Parallel()
	r := newResolver(t, nil)
	send := func(arg string) envelope.RcptQuery {
		return envelope.RcptQuery{Arg: arg, Telegram: true, SendOnly: true, Port: 25}
	}
	runCases(t, r, []rcase{
		{name: "offline", q: send("<digital.man@bbs.test>"), code: 450, text: "User unavailable", err: envelope.ErrUnavailable},
		{name: "online", q: send("<online.olga@bbs.test>"), want: mailbox(olga, "Online Olga", "<online.olga@bbs.test>")},
		{name: "via alias", q: send("<teller>"), want: mailbox(olga, "Online Olga", "<teller>")},
		{name: "soml offline", q: envelope.RcptQuery{Arg: "<digital.man>", Telegram: true}, want: mailbox(dm, "Digital Man", "<digital.man>")},
		{name: "never forwarded", q: send("<forward:forward.fred>"), code: 450, err: envelope.ErrUnavailable},
	})
}

// Rule 12 and the seed's forward: and local: prefixes.
func TestForwarding(t *testing.T) {
	t.Parallel()
	fwd := func(user uint32, to, addr string) envelope.Rcpt {
		return envelope.Rcpt{Kind: envelope.KindRemote, User: user, To: to, NetType: envelope.NetInternet, NetAddr: addr, Forwarded: true}
	}
	r := newResolver(t, nil)
	runCases(t, r, []rcase{
		{name: "forwarding user", q: mail("<forward.fred@bbs.test>"), want: fwd(fred, "Forward Fred", "fred@example.org")},
		{name: "local: keeps it here", q: mail("<local:forward.fred@bbs.test>"), want: mailbox(fred, "Forward Fred", "<local:forward.fred@bbs.test>")},
		{name: "forward: for a non-forwarding user", q: mail("<forward:netmail.nina@bbs.test>"), want: fwd(nina, "Netmail Nina", "nina@example.net")},
		{name: "forward: without netmail delivers locally", q: mail("<forward:digital.man@bbs.test>"), want: mailbox(dm, "Digital Man", "<forward:digital.man@bbs.test>")},
		{name: "netmail in a local domain", q: mail("<local.lou@bbs.test>"), want: mailbox(lou, "Local Lou", "<local.lou@bbs.test>")},
		{name: "FidoNet netmail", q: mail("<fido.frank@bbs.test>"), want: mailbox(frank, "Fido Frank", "<fido.frank@bbs.test>")},
		{name: "not forwarding", q: mail("<netmail.nina@bbs.test>"), want: mailbox(nina, "Netmail Nina", "<netmail.nina@bbs.test>")},
		{name: "forward: checks the mailbox first", q: mail("<forward:full.fran@bbs.test>"), code: 450, err: envelope.ErrMailboxFull},
	})
	off := newResolver(t, func(c *route.Config) { c.AllowForward = false })
	runCases(t, off, []rcase{
		{name: "system forbids forwarding", q: mail("<forward:forward.fred@bbs.test>"), want: mailbox(fred, "Forward Fred", "<forward:forward.fred@bbs.test>")},
	})
}

// A failing user base is a temporary problem, never "unknown user".
func TestDirectoryFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("mailbase unavailable")
	dir := newDir()
	dir.fail = boom
	r := route.New(baseConfig(t), dir)
	_, err := r.Resolve(context.Background(), mail("<digital.man@bbs.test>"))
	var rep *envelope.Reply
	if !errors.Is(err, boom) || errors.As(err, &rep) {
		t.Fatalf("Resolve with a failing directory = %v; want the directory error, not a reply", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newResolver(t, nil).Resolve(ctx, mail("<digital.man@bbs.test>")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Resolve with a cancelled context = %v", err)
	}
}

// OwnsSender: who may use which address on the submission ports.
func TestOwnsSender(t *testing.T) {
	t.Parallel()
	dmID := envelope.Identity{User: dm, Alias: "Digital Man", MayRelay: true}
	sysID := envelope.Identity{User: sysop, Alias: "Sysop Sam", MayRelay: true}
	restricted := envelope.Identity{User: dm, Alias: "Digital Man"}
	r := newResolver(t, func(c *route.Config) { c.RealNames = true })
	allow := newResolver(t, func(c *route.Config) { c.AllowRelay = true })
	cases := []struct {
		name string
		r    *route.Resolver
		id   envelope.Identity
		addr string
		want bool
	}{
		{"null path", r, dmID, "", true},
		{"own alias", r, dmID, "digital.man@bbs.test", true},
		{"own alias other local domain", r, dmID, "Digital_Man@other.test", true},
		{"own real name", r, dmID, "rob.swindell@bbs.test", true},
		{"whole-address alias", r, dmID, "info@bbs.test", true},
		{"local-part alias number", r, dmID, "webmaster@bbs.test", true},
		{"someone else", r, dmID, "online.olga@bbs.test", false},
		{"sysop's alias", r, dmID, "root@bbs.test", false},
		{"sysop owns root", r, sysID, "root@bbs.test", true},
		{"alias pointing off-system", r, dmID, "outside@bbs.test", false},
		{"unknown local name", r, dmID, "nobody@bbs.test", false},
		{"no domain", r, dmID, "digital.man", false},
		{"foreign without ALLOW_RELAY", r, dmID, "dm@example.org", false},
		{"foreign with ALLOW_RELAY", allow, dmID, "dm@example.org", true},
		{"foreign with ALLOW_RELAY, restricted", allow, restricted, "dm@example.org", false},
		{"blocked tag", r, envelope.Identity{User: tom, Alias: "Tagged Tom"}, "tagged.tom#spam@bbs.test", false},
	}
	for _, c := range cases {
		ok, suggestion := c.r.OwnsSender(context.Background(), c.id, c.addr)
		if ok != c.want {
			t.Errorf("%s: OwnsSender(%q) = %v; want %v", c.name, c.addr, ok, c.want)
		}
		if want := strings.ReplaceAll(c.id.Alias, " ", ".") + "@bbs.test"; suggestion != want {
			t.Errorf("%s: suggestion %q; want %q", c.name, suggestion, want)
		}
	}
}
