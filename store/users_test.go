package store_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/store"
)

func TestUserNumbersNeverReused(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	nums := addUsers(t, db, "Sysop", "Digital Man", "Guest")
	if nums[0] != 1 || nums[1] != 2 || nums[2] != 3 {
		t.Fatalf("numbers %v, want 1 2 3", nums)
	}
	if err := db.DeleteUser(3); err != nil {
		t.Fatal(err)
	}
	// The deleted user's alias is free again, but its number is not.
	again := addUsers(t, db, "Guest")
	if again[0] != 4 {
		t.Fatalf("new user after delete got number %d, want 4", again[0])
	}
	old, err := db.User(3)
	if err != nil || !old.Deleted || old.Alias != "Guest" {
		t.Fatalf("deleted record = %+v, %v; want it kept and marked deleted", old, err)
	}
	u, err := db.UserByAlias("guest")
	if err != nil || u.Number != 4 {
		t.Fatalf("alias lookup after reuse = %+v, %v; want user 4", u, err)
	}
	all, err := db.Users()
	if err != nil || len(all) != 4 {
		t.Fatalf("Users() = %d users, %v; want 4 (deleted included)", len(all), err)
	}
}

func TestAliasMatch(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	addUsers(t, db, "Digital Man", "Deuce", "Old Timer")
	if err := db.DeleteUser(3); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		want uint32 // 0: not found
	}{
		{"Digital Man", 1},
		{"digital.man", 1},
		{"digital_man", 1},
		{"d-i-g-i-t-a-l-man", 1},
		{"DIGITALMAN", 1},
		{" digital  man ", 1},
		{"deuce", 2},
		{"Deuce.", 2},
		{"digital", 0},
		{"digital.mann", 0},
		{"old.timer", 0}, // deleted users are skipped
		{"...", 0},
		{"", 0},
	}
	for _, c := range cases {
		u, err := db.UserByAlias(c.name)
		switch {
		case c.want == 0 && !errors.Is(err, store.ErrNotFound):
			t.Errorf("UserByAlias(%q) = %d, %v; want ErrNotFound", c.name, u.Number, err)
		case c.want != 0 && (err != nil || u.Number != c.want):
			t.Errorf("UserByAlias(%q) = %d, %v; want %d", c.name, u.Number, err, c.want)
		}
	}
}

func TestAddUserRefusesBadOrTakenAlias(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	addUsers(t, db, "Digital Man")
	cases := []struct {
		alias string
		want  error
	}{
		{"digital.man", store.ErrExists},
		{"DIGITAL_MAN", store.ErrExists},
		{"", store.ErrInvalid},
		{"  ", store.ErrInvalid},
		{"---", store.ErrInvalid},
		{"1234", store.ErrInvalid},
		{"joe@example.org", store.ErrInvalid},
		{"bad\x1bname", store.ErrInvalid},
		{strings.Repeat("x", store.MaxAliasLen+1), store.ErrInvalid},
	}
	for _, c := range cases {
		if _, err := db.AddUser(store.User{Alias: c.alias}, ""); !errors.Is(err, c.want) {
			t.Errorf("AddUser(%q) error = %v, want %v", c.alias, err, c.want)
		}
	}
	if _, err := db.AddUser(store.User{Alias: "Sysop", Level: 100}, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("level 100 accepted: %v", err)
	}
}

func TestUserByRealName(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	for _, u := range []store.User{
		{Alias: "Sysop", RealName: "Rob Swindell"},
		{Alias: "Other", RealName: "Jane Q. Public"},
		{Alias: "Twin", RealName: "Rob Swindell"},
	} {
		if _, err := db.AddUser(u, ""); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		want uint32
	}{
		{"Rob Swindell", 1},
		{"rob.swindell", 1},
		{"ROB  SWINDELL", 1},
		{"jane q public", 2},
		{"Jane.Q..Public", 2},
		{"Rob", 0},
		{"", 0},
	}
	for _, c := range cases {
		u, err := db.UserByRealName(c.name)
		switch {
		case c.want == 0 && !errors.Is(err, store.ErrNotFound):
			t.Errorf("UserByRealName(%q) = %d, %v; want ErrNotFound", c.name, u.Number, err)
		case c.want != 0 && (err != nil || u.Number != c.want):
			t.Errorf("UserByRealName(%q) = %d, %v; want %d", c.name, u.Number, err, c.want)
		}
	}
	// With the first holder deleted, the name finds the next one.
	if err := db.DeleteUser(1); err != nil {
		t.Fatal(err)
	}
	if u, err := db.UserByRealName("rob swindell"); err != nil || u.Number != 3 {
		t.Fatalf("after delete: %d, %v; want 3", u.Number, err)
	}
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	addUsers(t, db, "Alpha", "Beta")
	err := db.UpdateUser(1, func(u *store.User) error {
		u.Alias = "Gamma"
		u.Online = true
		u.RestrictM = true
		u.Level = 90
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.UserByAlias("gamma")
	if err != nil || u.Number != 1 || !u.Online || u.Level != 90 || !u.RestrictM {
		t.Fatalf("after rename: %+v, %v", u, err)
	}
	if _, err := db.UserByAlias("alpha"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old alias still resolves: %v", err)
	}
	err = db.UpdateUser(1, func(u *store.User) error { u.Alias = "beta"; return nil })
	if !errors.Is(err, store.ErrExists) {
		t.Fatalf("rename onto a taken alias: %v, want ErrExists", err)
	}
	err = db.UpdateUser(1, func(u *store.User) error { u.Number = 7; return nil })
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("renumbering: %v, want ErrInvalid", err)
	}
	if err := db.UpdateUser(99, func(*store.User) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of a missing user: %v", err)
	}
}

func TestPasswordAndSecret(t *testing.T) {
	t.Parallel()
	const password = "Tr0ub4dor&3-Horse"
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.db")
	key := testKey(t)
	db, err := store.Open(path, store.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	num, err := db.AddUser(store.User{Alias: "Sysop"}, password)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{
		{password, true},
		{strings.ToLower(password), true}, // Synchronet ignores case
		{strings.ToUpper(password), true},
		{"Tr0ub4dor&3-Hors", false},
		{"", false},
	} {
		ok, err := db.CheckPassword(context.Background(), num, c.pw)
		if err != nil || ok != c.want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", c.pw, ok, err, c.want)
		}
	}
	if secret, err := db.Secret(num); err != nil || secret != password {
		t.Fatalf("Secret = %q, %v; want the password as set", secret, err)
	}
	if _, err := db.CheckPassword(context.Background(), 42, password); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("CheckPassword of a missing user: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Nothing on disk gives the password away.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{password, strings.ToLower(password)} {
		if bytes.Contains(raw, []byte(s)) {
			t.Fatalf("the mailbase file contains the password %q", s)
		}
	}

	// The secret needs the right key.
	other, err := store.Open(path, store.Options{Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Secret(num); err == nil {
		t.Fatal("secret decrypted with the wrong key")
	}
	if ok, err := other.CheckPassword(context.Background(), num, password); !ok || err != nil {
		t.Fatalf("password check must not need the key: %v %v", ok, err)
	}
}

func TestSetPassword(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	num, err := db.AddUser(store.User{Alias: "Joe"}, "first")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetPassword(num, "second"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := db.CheckPassword(context.Background(), num, "first"); ok {
		t.Fatal("old password still accepted")
	}
	if ok, _ := db.CheckPassword(context.Background(), num, "second"); !ok {
		t.Fatal("new password refused")
	}
	if s, err := db.Secret(num); err != nil || s != "second" {
		t.Fatalf("secret after change = %q, %v", s, err)
	}
	// An empty password locks the account.
	if err := db.SetPassword(num, ""); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.CheckPassword(context.Background(), num, ""); ok || err != nil {
		t.Fatalf("empty password: %v %v; want no match", ok, err)
	}
	if _, err := db.Secret(num); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("secret of a user without password: %v", err)
	}
	if u, _ := db.User(num); u.HasPassword {
		t.Fatal("HasPassword still set")
	}
}

func TestPasswordNeedsKey(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "mail.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.AddUser(store.User{Alias: "Joe"}, "pw"); !errors.Is(err, store.ErrNoKey) {
		t.Fatalf("AddUser with a password but no key: %v, want ErrNoKey", err)
	}
}

// AddUserOrSysop gives the sysop's level only while no undeleted user has
// it, and never to two users added at the same time.
func TestAddUserOrSysop(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	const n = 8
	got := make(chan bool, n)
	errs := make(chan error, n)
	for i := range n {
		go func() {
			_, sysop, err := db.AddUserOrSysop(store.User{Alias: "user" + string(rune('a'+i)), Level: 10}, "")
			got <- sysop
			errs <- err
		}()
	}
	sysops := 0
	for range n {
		if <-got {
			sysops++
		}
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if sysops != 1 {
		t.Fatalf("%d of %d users added at once got the sysop's level, want 1", sysops, n)
	}
	all, _ := db.Users()
	for _, u := range all {
		if u.Level == store.SysopLevel {
			if err := db.DeleteUser(u.Number); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The only sysop is deleted: the next user becomes sysop.
	if num, sysop, err := db.AddUserOrSysop(store.User{Alias: "Owner", Level: 10}, ""); err != nil || !sysop {
		t.Fatalf("after deleting the sysop: #%d sysop=%v %v; want the sysop's level", num, sysop, err)
	} else if u, _ := db.User(num); u.Level != store.SysopLevel {
		t.Fatalf("level %d, want %d", u.Level, store.SysopLevel)
	}
}
