package route_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/mailproc"
	"github.com/bbsmail/bbsmail/route"
)

var _ route.Processors = (*mailproc.Set)(nil)

// loadProcessors loads a mailproc.ini through the real loader.
func loadProcessors(t *testing.T, ini string) *mailproc.Set {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mailproc.ini"), []byte(ini), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _, err := mailproc.Load(mailproc.Config{CtrlDir: dir, TempDir: filepath.Join(dir, "temp")})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Mail processor To matching: a name that is no user is accepted for a
// processor that consumes the message (a list server), and only then;
// recipients carry the processors they matched.
func TestProcessorTargets(t *testing.T) {
	t.Parallel()
	procs := loadProcessors(t, `
[ListServer]
	Command = listserver.js
	To = listserver, listserv
	PassThru = false
[Notify]
	Command = notify.js
	To = newsletter, digital.man@bbs.test
[Tagger]
	Command = tag.js
	To = newsletter
[Old]
	To = oldlist
	PassThru = false
	Disabled = true
[Clean]
	To = cleanlist
	PassThru = false
	ProcessDNSBL = false
[Sub]
	To = sub:dove-deb
	PassThru = false
`)
	r := newResolver(t, func(c *route.Config) {
		c.Processors = procs
		c.Aliases = append(c.Aliases, route.Alias{Name: "lists", Value: "listserv"})
	})
	target := func(fp, addr string, matched ...string) envelope.Rcpt {
		return envelope.Rcpt{Kind: envelope.KindProcessor, To: addr, ForwardPath: fp, Processors: matched}
	}
	listed := func(arg string) envelope.RcptQuery { q := mail(arg); q.Listed = true; return q }
	dmNotify := mailbox(dm, "Digital Man", "<digital.man@bbs.test>")
	dmNotify.Processors = []string{"Notify"}
	sub := envelope.Rcpt{Kind: envelope.KindSub, Sub: "DOVE-DEB", ForwardPath: "<sub:dove-deb@bbs.test>", Processors: []string{"Sub"}}
	runCases(t, r, []rcase{
		{name: "consuming processor takes a name that is no user", q: mail("<listserver@bbs.test>"),
			want: target("<listserver@bbs.test>", "listserver@bbs.test", "ListServer")},
		{name: "second name, any case", q: mail("<ListServ@bbs.test>"),
			want: target("<ListServ@bbs.test>", "ListServ@bbs.test", "ListServer")},
		{name: "after the local-part alias", q: mail("<lists@bbs.test>"),
			want: target("<lists@bbs.test>", "lists@bbs.test", "ListServer")},
		unknown("pass-through processor still needs a user", "<newsletter@bbs.test>"),
		{name: "pass-through match marks a user's mail", q: mail("<digital.man@bbs.test>"), want: dmNotify},
		unknown("disabled processor captures nothing", "<oldlist@bbs.test>"),
		{name: "not listed", q: mail("<cleanlist@bbs.test>"), want: target("<cleanlist@bbs.test>", "cleanlist@bbs.test", "Clean")},
		{name: "listed client skips ProcessDNSBL=false", q: listed("<cleanlist@bbs.test>"), code: 550, err: envelope.ErrUnknownUser},
		{name: "sub-board posts stay posts", q: mail("<sub:dove-deb@bbs.test>"), want: sub},
		{name: "telegrams never reach processors", q: envelope.RcptQuery{Arg: "<listserver>", Telegram: true},
			code: 550, err: envelope.ErrUnknownUser},
		{name: "relayed mail is no processor's", q: func() envelope.RcptQuery { q := mail("<listserver@example.org>"); q.MayRelay = true; return q }(),
			want: envelope.Rcpt{Kind: envelope.KindRemote, To: "listserver@example.org", NetType: envelope.NetInternet,
				NetAddr: "listserver@example.org", ForwardPath: "<listserver@example.org>"}},
	})
}
