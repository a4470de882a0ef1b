package route_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

// memDir is an in-memory user base with the Directory semantics the store
// promises: fuzzy alias matching, exact real names, deleted users skipped
// by name lookups.
type memDir struct {
	users  []route.User
	counts map[uint32]int
	online map[uint32]bool
	fail   error // returned by every lookup when set
}

// fuzzy reduces a name to its letters and digits, lower-cased, up to '@'.
func fuzzy(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c == '@' {
			break
		}
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' {
			b.WriteRune(c)
		} else if c >= 'A' && c <= 'Z' {
			b.WriteRune(c + 'a' - 'A')
		}
	}
	return b.String()
}

func (d *memDir) UserByNumber(_ context.Context, n uint32) (route.User, error) {
	if d.fail != nil {
		return route.User{}, d.fail
	}
	for _, u := range d.users {
		if u.Number == n {
			return u, nil
		}
	}
	return route.User{}, fmt.Errorf("user #%d: %w", n, route.ErrNoUser)
}

func (d *memDir) UserByAlias(_ context.Context, name string) (route.User, error) {
	if d.fail != nil {
		return route.User{}, d.fail
	}
	for _, u := range d.users {
		if !u.Deleted && fuzzy(name) != "" && fuzzy(u.Alias) == fuzzy(name) {
			return u, nil
		}
	}
	return route.User{}, route.ErrNoUser
}

func (d *memDir) UserByRealName(_ context.Context, name string) (route.User, error) {
	if d.fail != nil {
		return route.User{}, d.fail
	}
	for _, u := range d.users {
		if !u.Deleted && strings.EqualFold(u.RealName, name) {
			return u, nil
		}
	}
	return route.User{}, route.ErrNoUser
}

func (d *memDir) MessageCount(_ context.Context, user uint32) (int, error) {
	if d.fail != nil {
		return 0, d.fail
	}
	return d.counts[user], nil
}

func (d *memDir) Online(_ context.Context, user uint32) bool { return d.online[user] }

// The test BBS. User #1 is the sysop, whose configured sysop name differs
// from the alias so that the sysop-name rule is seen on its own.
const (
	sysop    = 1
	dm       = 2 // Digital Man, real name Rob Swindell
	deleted  = 3
	inactive = 4
	closed   = 5 // restriction I
	full     = 6 // 100 messages waiting
	exempt   = 7 // 500 waiting, exempt from MaxMsgsWaiting
	fred     = 8 // forwards to fred@example.org
	nina     = 9 // netmail nina@example.net, not forwarding
	lou      = 10
	olga     = 11 // online
	tom      = 12 // has an .smtpblock
	frank    = 13 // FidoNet netmail address
)

func newDir() *memDir {
	return &memDir{
		users: []route.User{
			{Number: sysop, Alias: "Sysop Sam", RealName: "Samuel Oper"},
			{Number: dm, Alias: "Digital Man", RealName: "Rob Swindell"},
			{Number: deleted, Alias: "Deleted Dave", Deleted: true},
			{Number: inactive, Alias: "Idle Ian", Inactive: true},
			{Number: closed, Alias: "Closed Carl", RestrictI: true},
			{Number: full, Alias: "Full Fran"},
			{Number: exempt, Alias: "Exempt Eve", ExemptW: true},
			{Number: fred, Alias: "Forward Fred", Forward: true, NetMail: "fred@example.org"},
			{Number: nina, Alias: "Netmail Nina", NetMail: "nina@example.net"},
			{Number: lou, Alias: "Local Lou", Forward: true, NetMail: "lou@Other.Test"},
			{Number: olga, Alias: "Online Olga"},
			{Number: tom, Alias: "Tagged Tom"},
			{Number: frank, Alias: "Fido Frank", Forward: true, NetMail: "1:103/705"},
		},
		counts: map[uint32]int{full: 100, exempt: 500, dm: 99},
		online: map[uint32]bool{olga: true},
	}
}

func baseConfig(t testing.TB) route.Config {
	t.Helper()
	data := t.TempDir()
	if err := os.MkdirAll(filepath.Join(data, "user"), 0o755); err != nil {
		t.Fatal(err)
	}
	block := "; tags Tom gave out and withdrew\nspam\n  SOLD\tr=sold to a list\npromo~\n"
	if err := os.WriteFile(filepath.Join(data, "user", "0012.smtpblock"), []byte(block), 0o644); err != nil {
		t.Fatal(err)
	}
	return route.Config{
		SystemAddr:     "bbs.test",
		HostName:       "mail.bbs.test",
		Domains:        route.Names{"other.test"},
		SysopName:      "Sam the Sysop",
		QWKID:          "MYBBS",
		AllowForward:   true,
		MaxMsgsWaiting: 100,
		FidoAddrs:      []string{"1:103/1"},
		QWKHubs:        []string{"VERT"},
		Subs:           []route.Sub{{Code: "DOVE-DEB", Name: "Debates"}, {Code: "local-gen", Name: "General"}},
		Aliases: []route.Alias{
			{Name: "info@bbs.test", Value: "Digital Man"},
			{Name: "*@old.test", Value: "*@bbs.test"},
			{Name: "*@legacy.test", Value: "Digital Man"},
			{Name: "everyone@bbs.test", Value: "list@example.com"},
			{Name: "cnnreport", Value: "sub:dove-deb"},
			{Name: "root", Value: "1"},
			{Name: "webmaster", Value: "2"},
			{Name: "ghost", Value: "99"},
			{Name: "gone", Value: "3"},
			{Name: "outside", Value: "someone@example.com"},
			{Name: "vertsysop", Value: "VERT!sysop"},
			{Name: "teller", Value: "Online Olga"},
		},
		DataDir: data,
	}
}

type rcase struct {
	name string
	q    envelope.RcptQuery
	// want is the recipient when code is 0.
	want  envelope.Rcpt
	code  int    // expected reply code of a refusal
	text  string // expected reply text, when not empty
	err   error  // expected sentinel reason
	close bool   // the server must disconnect
}

func mail(arg string) envelope.RcptQuery { return envelope.RcptQuery{Arg: arg, Port: 25} }

func authed(arg string) envelope.RcptQuery {
	q := mail(arg)
	q.Auth = &envelope.Identity{User: dm, Alias: "Digital Man", MayRelay: true}
	return q
}

func mailbox(user uint32, to, fp string) envelope.Rcpt {
	return envelope.Rcpt{Kind: envelope.KindMailbox, User: user, To: to, ForwardPath: fp}
}

func unknown(name, fp string) rcase {
	return rcase{name: name, q: mail(fp), code: 550, text: "Unknown User: " + fp, err: envelope.ErrUnknownUser}
}

func runCases(t *testing.T, r *route.Resolver, cases []rcase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Resolve(context.Background(), c.q)
			if c.code == 0 {
				if err != nil {
					t.Fatalf("Resolve(%q) refused: %v; want %+v", c.q.Arg, err, c.want)
				}
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Fatalf("Resolve(%q)\n got %+v\nwant %+v", c.q.Arg, got, c.want)
				}
				return
			}
			var rep *envelope.Reply
			if !errors.As(err, &rep) {
				t.Fatalf("Resolve(%q) = %+v, %v; want reply %d", c.q.Arg, got, err, c.code)
			}
			if rep.Code != c.code || (c.text != "" && rep.Text != c.text) {
				t.Fatalf("Resolve(%q) replied %d %q; want %d %q", c.q.Arg, rep.Code, rep.Text, c.code, c.text)
			}
			if c.err != nil && !errors.Is(err, c.err) {
				t.Fatalf("Resolve(%q) reason %v; want %v", c.q.Arg, rep.Err, c.err)
			}
			if rep.Close != c.close {
				t.Fatalf("Resolve(%q) close = %v; want %v", c.q.Arg, rep.Close, c.close)
			}
			if rep.Enhanced == "" || rep.Enhanced[0] != byte('0'+c.code/100) {
				t.Fatalf("Resolve(%q) enhanced code %q does not match %d", c.q.Arg, rep.Enhanced, c.code)
			}
		})
	}
}

func newResolver(t *testing.T, mutate func(*route.Config)) *route.Resolver {
	t.Helper()
	cfg := baseConfig(t)
	if mutate != nil {
		mutate(&cfg)
	}
	return route.New(cfg, newDir())
}
