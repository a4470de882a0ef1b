package store_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// testKey returns a fresh secret key.
func testKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, store.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// openTemp opens a new mailbase in a temporary directory and closes it
// when the test ends.
func openTemp(t testing.TB) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mail.db")
	db, err := store.Open(path, store.Options{Key: testKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	// Closing twice is harmless, so tests may close early.
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, path
}

// addUsers creates users without passwords (fast) and returns their numbers.
func addUsers(t testing.TB, db *store.DB, aliases ...string) []uint32 {
	t.Helper()
	var nums []uint32
	for _, a := range aliases {
		n, err := db.AddUser(store.User{Alias: a}, "")
		if err != nil {
			t.Fatalf("AddUser(%q): %v", a, err)
		}
		nums = append(nums, n)
	}
	return nums
}

const sampleMsg = "From: Joe Sender <joe@example.org>\r\n" +
	"To: sysop@bbs.example\r\n" +
	"Subject: =?UTF-8?Q?caf=C3=A9?= meeting\r\n" +
	"Date: Sat, 21 Nov 2026 10:00:00 +0000\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"\r\n" +
	"Hello there.\r\n"

func mailboxRcpt(user uint32, trace string) envelope.Rcpt {
	return envelope.Rcpt{Kind: envelope.KindMailbox, User: user, Trace: []byte(trace)}
}
