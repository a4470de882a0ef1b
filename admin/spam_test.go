package admin_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/admin"
	"github.com/bbsmail/bbsmail/store"
)

// The sysop sees the spam hash database and can empty it, entirely or of
// the bodies not seen for a while.
func TestSpamCommands(t *testing.T) {
	db := openDB(t)
	env := admin.Env{DB: db}
	old, _ := store.HashBody([]byte("Buy cheap watches now\r\n"))
	recent, _ := store.HashBody([]byte("Your account is suspended\r\n"))
	if _, err := db.AddSpamHash(old, time.Now().Add(-60*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddSpamHash(recent, time.Now()); err != nil {
		t.Fatal(err)
	}
	out := must(t, env, "spam", "list")
	if !strings.Contains(out, old.String()) || !strings.Contains(out, recent.String()) || !strings.Contains(out, "2 entries") {
		t.Fatalf("spam list:\n%s", out)
	}
	if _, _, code := run(t, env, "", "spam", "clear", "extra"); code != 2 {
		t.Errorf("spam clear with an argument: exit %d, want 2", code)
	}
	if out := must(t, env, "spam", "clear", "--older-than", "720h"); !strings.HasPrefix(out, "1 spam hashes removed") {
		t.Errorf("spam clear --older-than: %q", out)
	}
	out = must(t, env, "spam", "list")
	if strings.Contains(out, old.String()) || !strings.Contains(out, recent.String()) {
		t.Errorf("after clearing old bodies:\n%s", out)
	}
	if out := must(t, env, "spam", "clear"); !strings.HasPrefix(out, "1 spam hashes removed") {
		t.Errorf("spam clear: %q", out)
	}
	if out := must(t, env, "spam", "list"); !strings.Contains(out, "0 entries") {
		t.Errorf("after clearing everything:\n%s", out)
	}
}
