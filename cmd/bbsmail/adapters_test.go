package main

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

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
