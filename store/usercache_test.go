package store_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/bbsmail/bbsmail/store"
)

// Lookups are served from memory after the first one; every change of the
// user must show in the next lookup all the same.
func TestUserLookupsSeeEveryChange(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	n := addUsers(t, db, "Digital Man")[0]
	for range 2 { // the second round is answered from the cache
		if u, err := db.UserByAlias("digital.man"); err != nil || u.Number != n {
			t.Fatalf("UserByAlias = %+v, %v", u, err)
		}
		if u, err := db.User(n); err != nil || u.Alias != "Digital Man" {
			t.Fatalf("User = %+v, %v", u, err)
		}
	}
	if err := db.UpdateUser(n, func(u *store.User) error { u.Alias, u.Forward = "Mike", true; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByAlias("digital man"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old alias after rename: %v, want ErrNotFound", err)
	}
	if u, err := db.UserByAlias("mike"); err != nil || !u.Forward {
		t.Fatalf("new alias = %+v, %v; want the renamed user with Forward", u, err)
	}
	if err := db.SetPassword(n, "secret"); err != nil {
		t.Fatal(err)
	}
	if u, err := db.User(n); err != nil || !u.HasPassword {
		t.Fatalf("after SetPassword: %+v, %v; want HasPassword", u, err)
	}
	if err := db.DeleteUser(n); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UserByAlias("mike"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("alias of a deleted user: %v, want ErrNotFound", err)
	}
	if u, err := db.User(n); err != nil || !u.Deleted {
		t.Fatalf("deleted user by number = %+v, %v; want Deleted", u, err)
	}
}

// A lookup racing with an update never leaves the old record behind once
// the update has returned.
func TestUserLookupRacingUpdate(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	n := addUsers(t, db, "Racer")[0]
	for level := 1; level <= 50; level++ {
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() { _, _ = db.UserByAlias("racer") })
		}
		if err := db.UpdateUser(n, func(u *store.User) error { u.Level = level; return nil }); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if u, err := db.UserByAlias("racer"); err != nil || u.Level != level {
			t.Fatalf("after update to level %d: %+v, %v", level, u, err)
		}
	}
}
