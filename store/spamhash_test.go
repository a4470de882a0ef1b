package store_test

import (
	"fmt"
	"hash/crc32"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/store"
)

// The same spam re-wrapped, re-coloured with Ctrl-A codes or with other
// line ends is the same spam; a body of nothing but white space and codes
// is never hashed, so it can never make a blank message "known spam".
func TestHashBodyNormalisation(t *testing.T) {
	t.Parallel()
	base, ok := store.HashBody([]byte("Buy cheap pills now\r\n"))
	if !ok {
		t.Fatal("a body with text was not hashed")
	}
	for _, tc := range []struct {
		name string
		body string
		same bool // hashes like base
		ok   bool // hashed at all
	}{
		{"identical", "Buy cheap pills now\r\n", true, true},
		{"re-wrapped", "Buy cheap\r\npills now\r\n", true, true},
		{"bare LF and TABs", "Buy\tcheap pills\nnow\n", true, true},
		{"extra blank lines", "\r\n\r\nBuy cheap pills now\r\n\r\n\r\n", true, true},
		{"Ctrl-A colour codes", "\x01hBuy \x01rcheap\x01n pills now", true, true},
		{"Ctrl-A code at the very end", "Buy cheap pills now\x01", true, true},
		{"case differs", "buy cheap pills now", false, true},
		{"one letter more", "Buy cheap pills now!", false, true},
		{"empty", "", false, false},
		{"white space only", " \t\r\n\r\n", false, false},
		{"Ctrl-A codes only", "\x01h\x01n\r\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := store.HashBody([]byte(tc.body))
			if ok != tc.ok {
				t.Fatalf("hashed = %v, want %v", ok, tc.ok)
			}
			if got := ok && h == base; got != tc.same {
				t.Errorf("same as %q = %v, want %v (%+v vs %+v)", "Buy cheap pills now", got, tc.same, h, base)
			}
		})
	}
	if base.Length != uint32(len("Buycheappillsnow")) {
		t.Errorf("Length = %d, want the normalised length %d", base.Length, len("Buycheappillsnow"))
	}
	if want := fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte("Buycheappillsnow"))); base.String() != want {
		t.Errorf("String() = %q, want the CRC-32 of the normalised body, %q", base.String(), want)
	}
}

// A body is unknown until it is added; a match refreshes the record (the
// hit count grows, the first time stays); adding it again refreshes too.
// Records survive reopening the mailbase and can be cleared by age.
func TestSpamHashAddFindRefresh(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mail.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	spam, _ := store.HashBody([]byte("You have won a prize"))
	other, _ := store.HashBody([]byte("Lunch on Friday?"))
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

	if _, found, err := db.MatchSpamHash(spam, t0); err != nil || found {
		t.Fatalf("before adding: found=%v err=%v", found, err)
	}
	r, err := db.AddSpamHash(spam, t0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Hits != 1 || !r.Added.Equal(t0) || !r.Updated.Equal(t0) {
		t.Fatalf("new record %+v, want 1 hit added and updated at %v", r, t0)
	}
	t1 := t0.Add(time.Hour)
	before, found, err := db.MatchSpamHash(spam, t1)
	if err != nil || !found {
		t.Fatalf("after adding: found=%v err=%v", found, err)
	}
	if !before.Added.Equal(t0) || before.Hits != 1 {
		t.Errorf("match returned %+v, want the record as it was (added %v, 1 hit)", before, t0)
	}
	if _, found, _ := db.MatchSpamHash(other, t1); found {
		t.Error("a different body matched")
	}
	t2 := t1.Add(time.Hour)
	r, err = db.AddSpamHash(spam, t2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Hits != 3 || !r.Added.Equal(t0) || !r.Updated.Equal(t2) {
		t.Errorf("after a match and a second add: %+v, want 3 hits, added %v, updated %v", r, t0, t2)
	}
	if _, err := db.AddSpamHash(other, t0); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.SpamHashes()
	if err != nil || len(all) != 2 {
		t.Fatalf("after reopening: %d records, %v; want 2", len(all), err)
	}
	// "other" was last seen at t0, "spam" at t2: clearing what is older
	// than t1 removes only "other".
	if n, err := db.DeleteSpamHashes(t1); err != nil || n != 1 {
		t.Fatalf("DeleteSpamHashes(t1) = %d, %v; want 1", n, err)
	}
	if _, found, _ := db.MatchSpamHash(other, t2); found {
		t.Error("a cleared record still matches")
	}
	if _, found, _ := db.MatchSpamHash(spam, t2); !found {
		t.Error("a recent record was cleared")
	}
	if n, err := db.DeleteSpamHashes(time.Time{}); err != nil || n != 1 {
		t.Fatalf("DeleteSpamHashes(zero) = %d, %v; want 1", n, err)
	}
}

// A record only matches a body of the same length with every hash equal:
// a hash with one field changed (as a different body would have) is not
// a match.
func TestSpamHashNeedsEveryHash(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	h, _ := store.HashBody([]byte("Enlarge your mailbox"))
	if _, err := db.AddSpamHash(h, time.Now()); err != nil {
		t.Fatal(err)
	}
	crc := h
	crc.CRC32++
	md := h
	md.MD5[0]++
	length := h
	length.Length++
	for name, q := range map[string]store.SpamHash{"CRC-32": crc, "MD5": md, "length": length} {
		if _, found, err := db.MatchSpamHash(q, time.Now()); err != nil || found {
			t.Errorf("%s differs: found=%v err=%v, want no match", name, found, err)
		}
	}
}

// MatchSpamBody finds a known body however it is wrapped, counts the hit,
// and tells apart bodies of the same normalised length.
func TestMatchSpamBody(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "mail.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	spam, _ := store.HashBody([]byte("You have won a prize"))
	if _, err := db.AddSpamHash(spam, now); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		body  string
		found bool
	}{
		{"You have\r\n  won a\tprize\r\n", true},
		{"You have won a prizf", false}, // same length, other text
		{"You have won a big prize", false},
		{" \r\n\x01R\r\n", false}, // nothing left to hash
	} {
		r, h, found, err := db.MatchSpamBody([]byte(c.body), now.Add(time.Minute))
		if err != nil || found != c.found {
			t.Errorf("%q: found=%v err=%v, want found=%v", c.body, found, err, c.found)
			continue
		}
		if found && (h != spam || r.Hits != 1) {
			t.Errorf("%q: hash %v record %+v, want %v seen once before", c.body, h, r, spam)
		}
	}
	recs, err := db.SpamHashes()
	if err != nil || len(recs) != 1 || recs[0].Hits != 2 {
		t.Errorf("after one match: %+v %v, want 2 hits", recs, err)
	}
}

// The quick "no spam known" answer survives a restart and follows the
// database: a reopened mailbase still finds its spam, an emptied one
// finds none, and a body added after the clear is found again.
func TestMatchSpamBodyAcrossReopenAndClear(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mail.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte("Claim your reward today")
	spam, _ := store.HashBody(body)
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if _, _, found, _ := db.MatchSpamBody(body, now); found {
		t.Fatal("found in an empty database")
	}
	if _, err := db.AddSpamHash(spam, now); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err = store.Open(path, store.Options{}); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, found, err := db.MatchSpamBody(body, now); !found || err != nil {
		t.Fatalf("after reopening: found=%v err=%v", found, err)
	}
	if _, err := db.DeleteSpamHashes(time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := db.MatchSpamBody(body, now); found {
		t.Fatal("found after clearing")
	}
	if _, err := db.AddSpamHash(spam, now); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := db.MatchSpamBody(body, now); !found {
		t.Fatal("not found after adding again")
	}
}
