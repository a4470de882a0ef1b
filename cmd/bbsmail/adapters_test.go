package main

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/ars"
	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

func testDB(t *testing.T) *store.DB {
	t.Helper()
	dir := t.TempDir()
	key, err := store.LoadOrCreateKey(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(filepath.Join(dir, "m.db"), store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Logins resolve by alias always, by number and real name only when
// main.ini allows it; deleted and inactive accounts never log in, and the
// failure looks the same as a wrong password.
func TestAuthAdapter(t *testing.T) {
	db := testDB(t)
	n, _ := db.AddUser(store.User{Alias: "Digital Man", RealName: "Rob Swindell"}, "pw")
	gone, _ := db.AddUser(store.User{Alias: "gone"}, "pw")
	idle, _ := db.AddUser(store.User{Alias: "idle"}, "pw")
	_ = db.DeleteUser(gone)
	_ = db.UpdateUser(idle, func(u *store.User) error { u.Inactive = true; return nil })
	cfg := &ctrl.Config{}
	a := auth{db: db, sys: func() *ctrl.Config { return cfg }}
	ctx := context.Background()
	try := func(login, pw string) error {
		_, err := a.Authenticate(ctx, login, pw)
		return err
	}
	if err := try("digital.man", "pw"); err != nil {
		t.Fatalf("alias login: %v", err)
	}
	for _, c := range []struct{ login, pw string }{
		{"digital.man", "wrong"}, {"1", "pw"}, {"Rob Swindell", "pw"}, {"gone", "pw"}, {"idle", "pw"}, {"nobody", "pw"},
	} {
		if err := try(c.login, c.pw); !errors.Is(err, errBadLogin) {
			t.Errorf("login %q/%q: err = %v, want a bad-login error", c.login, c.pw, err)
		}
	}
	cfg.System.Login = ctrl.LoginByNumber | ctrl.LoginByRealName
	if err := try("1", "pw"); err != nil {
		t.Errorf("login by number when allowed: %v", err)
	}
	for _, num := range []uint32{gone, idle} {
		if err := try(strconv.FormatUint(uint64(num), 10), "pw"); !errors.Is(err, errBadLogin) {
			t.Errorf("login by the number of deleted/inactive user #%d: err = %v, want a bad-login error", num, err)
		}
	}
	if err := try("rob swindell", "pw"); err != nil {
		t.Errorf("login by real name when allowed: %v", err)
	}
	id, secret, err := a.Secret(ctx, "digital man")
	if err != nil || secret != "pw" || id.User != n {
		t.Fatalf("Secret: %v %q %v", id, secret, err)
	}
	db.Close()
	_, err = a.Authenticate(ctx, "digital man", "pw")
	var r *envelope.Reply
	if !errors.As(err, &r) || r.Code != 454 {
		t.Fatalf("closed mailbase: err = %v, want a 454 reply", err)
	}
}

// Every failed login costs one argon2 verification, as a wrong password
// for a real user does, so an unknown name is not answered sooner: the
// unknown, deleted, inactive and password-less paths run the dummy check.
func TestAuthEveryFailureVerifies(t *testing.T) {
	db := testDB(t)
	_, _ = db.AddUser(store.User{Alias: "Digital Man"}, "pw")
	gone, _ := db.AddUser(store.User{Alias: "gone"}, "pw")
	idle, _ := db.AddUser(store.User{Alias: "idle"}, "pw")
	_, _ = db.AddUser(store.User{Alias: "nopass"}, "")
	_ = db.DeleteUser(gone)
	_ = db.UpdateUser(idle, func(u *store.User) error { u.Inactive = true; return nil })
	cfg := &ctrl.Config{}
	a := auth{db: db, sys: func() *ctrl.Config { return cfg }}
	for _, c := range []struct{ login, pw string }{
		{"digital man", "pw"}, {"digital man", "wrong"}, {"nobody", "pw"}, {"", "pw"}, {"!!!", "pw"},
		{"gone", "pw"}, {"idle", "pw"}, {"nopass", "pw"}, {"2", "pw"},
	} {
		before := db.PasswordChecks()
		_, _ = a.Authenticate(context.Background(), c.login, c.pw)
		if n := db.PasswordChecks() - before; n != 1 {
			t.Errorf("login %q/%q ran %d password verifications, want 1", c.login, c.pw, n)
		}
	}
}

// LoginRequirements turns away users who do not meet it, over any login
// method, and may test the client's protocol and address.
func TestAuthLoginRequirements(t *testing.T) {
	db := testDB(t)
	_, _ = db.AddUser(store.User{Alias: "low", Level: 10}, "pw")
	_, _ = db.AddUser(store.User{Alias: "high", Level: 50}, "pw")
	req, err := ars.Parse("LEVEL 20 AND NOT (PROT POP3 AND IP 192.0.2.0/24)")
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ctrl.Config{}
	cfg.Mail.LoginARS = req
	a := auth{db: db, sys: func() *ctrl.Config { return cfg }}
	for _, c := range []struct {
		user   string
		client envelope.Client
		ok     bool
	}{
		{"high", envelope.Client{IP: "127.0.0.1", Protocol: "SMTP"}, true},
		{"low", envelope.Client{IP: "127.0.0.1", Protocol: "SMTP"}, false},
		{"high", envelope.Client{IP: "192.0.2.7", Protocol: "SMTP"}, true},
		{"high", envelope.Client{IP: "192.0.2.7", Protocol: "POP3"}, false},
		{"high", envelope.Client{IP: "198.51.100.1", Protocol: "POP3"}, true},
	} {
		ctx := envelope.WithClient(context.Background(), c.client)
		_, err := a.Authenticate(ctx, c.user, "pw")
		_, _, serr := a.Secret(ctx, c.user)
		for what, e := range map[string]error{"Authenticate": err, "Secret": serr} {
			if c.ok && e != nil {
				t.Errorf("%s %s from %+v: %v, want success", what, c.user, c.client, e)
			}
			if !c.ok && !errors.Is(e, errBadLogin) {
				t.Errorf("%s %s from %+v: %v, want a bad-login error", what, c.user, c.client, e)
			}
		}
	}
}

// Posting rights on a sub-board by mail: the group's and the sub-board's
// access strings and post_ars must all pass for the sender (user 0 when
// unauthenticated, refused outright when DNS-blacklisted); a string that
// does not parse lets nobody post.
func TestMayPost(t *testing.T) {
	db := testDB(t)
	sysop, _ := db.AddUser(store.User{Alias: "sysop", Level: 90}, "pw")
	member, _ := db.AddUser(store.User{Alias: "member", Level: 50}, "pw")
	cfg := &ctrl.Config{}
	cfg.System.Groups = []ctrl.Group{{Name: "Local", ARS: "LEVEL 20 OR USER 0"}}
	cfg.System.Subs = []ctrl.Sub{
		{Group: "Local", Code: "LOCAL-NOTICES", Name: "Notices", PostARS: "SYSOP"},
		{Group: "Local", Code: "LOCAL-GENERAL", Name: "General"},
		{Group: "Local", Code: "LOCAL-BROKEN", Name: "Broken", PostARS: "LEVEL (("},
		{Group: "Local", Code: "LOCAL-SMTPS", Name: "TLS only", ARS: "PROT SMTPS"},
	}
	may := mayPost(cfg, db)
	as := func(n uint32) *envelope.Identity { return &envelope.Identity{User: n} }
	for _, c := range []struct {
		sub  string
		q    envelope.RcptQuery
		want string // "" = allowed, else the start of the reply text
	}{
		{"local-notices", envelope.RcptQuery{Auth: as(sysop)}, ""},
		{"local-notices", envelope.RcptQuery{Auth: as(member)}, "Insufficient access: you may not post on Notices"},
		{"local-notices", envelope.RcptQuery{}, "Insufficient access"},
		{"local-general", envelope.RcptQuery{}, ""},
		{"local-general", envelope.RcptQuery{Listed: true}, "Insufficient access: DNS-blacklisted"},
		{"local-general", envelope.RcptQuery{Auth: as(member), Listed: true}, ""},
		{"local-broken", envelope.RcptQuery{Auth: as(sysop)}, "Insufficient access"},
		{"local-smtps", envelope.RcptQuery{Auth: as(member)}, "Insufficient access"},
		{"local-smtps", envelope.RcptQuery{Auth: as(member), TLS: true}, ""},
	} {
		err := may(context.Background(), c.sub, c.q)
		var r *envelope.Reply
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s %+v: %v, want allowed", c.sub, c.q, err)
		case c.want != "" && (!errors.As(err, &r) || r.Code != 550 || !strings.HasPrefix(r.Text, c.want)):
			t.Errorf("%s %+v: %v, want 550 %q", c.sub, c.q, err, c.want)
		}
	}
}

// The level user add gives the first sysop is the level access requirements
// read as a sysop (the store keeps its own copy: it may not import ars).
func TestSysopLevelAgrees(t *testing.T) {
	if store.SysopLevel != ars.SysopLevel {
		t.Fatalf("store.SysopLevel %d, ars.SysopLevel %d", store.SysopLevel, ars.SysopLevel)
	}
}
