package access_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/access"
	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/route"
)

var errBad = errors.New("bad login")

// users is a route.Directory over a list; broken makes every lookup fail.
type users struct {
	list   []route.User
	broken bool
}

func (d users) find(match func(route.User) bool) (route.User, error) {
	if d.broken {
		return route.User{}, errors.New("disk on fire")
	}
	for _, u := range d.list {
		if match(u) {
			return u, nil
		}
	}
	return route.User{}, fmt.Errorf("lookup: %w", route.ErrNoUser)
}

func (d users) UserByNumber(_ context.Context, n uint32) (route.User, error) {
	return d.find(func(u route.User) bool { return u.Number == n })
}

func (d users) UserByAlias(_ context.Context, name string) (route.User, error) {
	return d.find(func(u route.User) bool { return !u.Deleted && strings.EqualFold(u.Alias, name) })
}

func (d users) UserByRealName(_ context.Context, name string) (route.User, error) {
	return d.find(func(u route.User) bool { return strings.EqualFold(u.RealName, name) })
}
func (users) MessageCount(context.Context, uint32) (int, error) { return 0, nil }
func (users) Online(context.Context, uint32) bool               { return false }

var dir = users{list: []route.User{
	{Number: 1, Alias: "Sysop", RealName: "Sam Sysop", Level: 90},
	{Number: 2, Alias: "Member", Level: 50, RestrictM: true},
	{Number: 3, Alias: "Gone", Deleted: true},
	{Number: 4, Alias: "Idle", Inactive: true},
}}

// A login id is an alias always, a number and a real name only when
// allowed; deleted and inactive accounts fail like a wrong password; a
// broken user base is a temporary failure, never a wrong password.
func TestFind(t *testing.T) {
	ctx := context.Background()
	plain := access.Logins{Dir: dir, BadLogin: errBad}
	all := access.Logins{Dir: dir, ByNumber: true, ByRealName: true, BadLogin: errBad}
	for _, c := range []struct {
		l     access.Logins
		login string
		want  uint32 // 0: a bad login
	}{
		{plain, "sysop", 1}, {plain, "1", 0}, {plain, "Sam Sysop", 0},
		{all, "1", 1}, {all, "Sam Sysop", 1}, {all, "2", 2},
		{all, "gone", 0}, {all, "3", 0}, {all, "idle", 0}, {all, "nobody", 0},
	} {
		u, err := c.l.Find(ctx, c.login)
		switch {
		case c.want == 0 && !errors.Is(err, errBad):
			t.Errorf("%q: %+v, %v; want a bad login", c.login, u, err)
		case c.want != 0 && (err != nil || u.Number != c.want):
			t.Errorf("%q: %+v, %v; want user #%d", c.login, u, err, c.want)
		}
	}
	broken := access.Logins{Dir: users{broken: true}, BadLogin: errBad}
	_, err := broken.Find(ctx, "sysop")
	var r *envelope.Reply
	if err = broken.Temporary(err); !errors.As(err, &r) || r.Code != 454 || errors.Is(err, errBad) {
		t.Errorf("broken user base: %v; want 454", err)
	}
	if err := broken.Temporary(errBad); err != errBad {
		t.Errorf("a bad login became %v", err)
	}
}

func TestAllowedAndIdentity(t *testing.T) {
	req, err := ars.Parse("LEVEL 60")
	if err != nil {
		t.Fatal(err)
	}
	l := access.Logins{Dir: dir, Requirements: req, BadLogin: errBad}
	ctx := context.Background()
	if err := l.Allowed(ctx, dir.list[0]); err != nil {
		t.Errorf("sysop refused: %v", err)
	}
	if err := l.Allowed(ctx, dir.list[1]); !errors.Is(err, errBad) || !strings.Contains(err.Error(), "LoginRequirements") {
		t.Errorf("member: %v; want a bad login naming LoginRequirements", err)
	}
	if id := access.Identity(dir.list[0]); id != (envelope.Identity{User: 1, Alias: "Sysop", MayRelay: true}) {
		t.Errorf("sysop identity %+v", id)
	}
	if access.Identity(dir.list[1]).MayRelay {
		t.Error("restriction M may relay")
	}
}

func TestMayPost(t *testing.T) {
	may := access.MayPost(dir, []access.Sub{
		{Code: "LOCAL-NOTICES", Name: "Notices", Requirements: []string{"LEVEL 20 OR USER 0", "", "SYSOP"}},
		{Code: "LOCAL-GENERAL", Name: "General", Requirements: []string{"LEVEL 20 OR USER 0"}},
		{Code: "LOCAL-BROKEN", Name: "Broken", Requirements: []string{"LEVEL (("}},
	})
	as := func(n uint32) *envelope.Identity { return &envelope.Identity{User: n} }
	for _, c := range []struct {
		sub  string
		q    envelope.RcptQuery
		want string // "" = allowed, else the start of the reply text
	}{
		{"local-notices", envelope.RcptQuery{Auth: as(1)}, ""},
		{"local-notices", envelope.RcptQuery{Auth: as(2)}, "Insufficient access: you may not post on Notices"},
		{"local-general", envelope.RcptQuery{}, ""},
		{"local-general", envelope.RcptQuery{Listed: true}, "Insufficient access: DNS-blacklisted"},
		{"local-broken", envelope.RcptQuery{Auth: as(1)}, "Insufficient access"},
	} {
		err := may(context.Background(), c.sub, c.q)
		var r *envelope.Reply
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %+v: %v, want allowed", c.sub, c.q, err)
		case c.want != "" && (!errors.As(err, &r) || r.Code != 550 || !strings.HasPrefix(r.Text, c.want) || !errors.Is(err, envelope.ErrNoAccess)):
			t.Errorf("%s %+v: %v, want 550 %q", c.sub, c.q, err, c.want)
		}
	}
	if err := may(context.Background(), "local-general", envelope.RcptQuery{Auth: as(99)}); err == nil || errors.As(err, new(*envelope.Reply)) {
		t.Errorf("unknown poster: %v; want a local error", err)
	}
}
