package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

func deliverTo(t *testing.T, db *store.DB, users ...uint32) {
	t.Helper()
	env := &envelope.Envelope{}
	for _, u := range users {
		env.Rcpts = append(env.Rcpts, mailboxRcpt(u, ""))
	}
	if _, err := db.Deliver(env, []byte(sampleMsg)); err != nil {
		t.Fatal(err)
	}
}

// A backup taken while the mailbase is open opens as a mailbase with the
// same contents, passes Check, and is as long as announced.
func TestBackup(t *testing.T) {
	db, _ := openTemp(t)
	u := addUsers(t, db, "alice", "bob")
	for range 20 {
		deliverTo(t, db, u...)
	}
	var buf bytes.Buffer
	var announced int64
	n, err := db.Backup(&buf, func(size int64) error { announced = size; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if n != announced || n != int64(buf.Len()) {
		t.Errorf("wrote %d bytes, announced %d, buffer has %d", n, announced, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.Check(); err != nil {
		t.Errorf("the copy fails Check: %v", err)
	}
	want, _ := db.Stats()
	got, _ := cp.Stats()
	if got.Users != want.Users || got.Messages != want.Messages || got.Bodies != want.Bodies {
		t.Errorf("copy stats %+v, original %+v", got, want)
	}
}

// Purge takes deleted copies and read kill-read copies (or all read ones
// when asked) and leaves the rest; the reference counts stay right.
func TestPurge(t *testing.T) {
	db, _ := openTemp(t)
	u := addUsers(t, db, "alice", "bob")
	for range 3 {
		deliverTo(t, db, u...)
	}
	box, err := db.Mailbox(u[0])
	if err != nil || len(box) != 3 {
		t.Fatalf("alice's mailbox: %v, %v", box, err)
	}
	if err := db.MarkRead(u[0], box[0].ID); err != nil {
		t.Fatal(err)
	}
	st, err := db.Purge(false)
	if err != nil {
		t.Fatal(err)
	}
	if st != (store.PurgeStats{}) {
		t.Errorf("nothing flagged, purge removed %+v", st)
	}
	st, err = db.Purge(true)
	if err != nil {
		t.Fatal(err)
	}
	if st.KillRead != 1 {
		t.Errorf("Kill Read E-mail: purge removed %+v, want the one read copy", st)
	}
	if n, _ := db.MessageCount(u[0]); n != 2 {
		t.Errorf("alice has %d messages, want 2", n)
	}
	if n, _ := db.MessageCount(u[1]); n != 3 {
		t.Errorf("bob has %d messages, want 3 (his copies share the texts)", n)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check after purge: %v", err)
	}
}

// Compact shrinks a file whose mail was deleted and keeps what is left;
// with the file held by another process it reports ErrLocked.
func TestCompact(t *testing.T) {
	db, path := openTemp(t)
	u := addUsers(t, db, "alice")
	big := strings.Repeat("x", 64<<10)
	for range 50 {
		env := &envelope.Envelope{Rcpts: []envelope.Rcpt{mailboxRcpt(u[0], "")}}
		if _, err := db.Deliver(env, []byte(sampleMsg+big)); err != nil {
			t.Fatal(err)
		}
	}
	box, _ := db.Mailbox(u[0])
	var ids []uint64
	for _, m := range box[1:] {
		ids = append(ids, m.ID)
	}
	if err := db.DeleteMessages(u[0], ids...); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.Compact(path, 50*time.Millisecond); !errors.Is(err, store.ErrLocked) {
		t.Errorf("compacting an open mailbase: %v, want ErrLocked", err)
	}
	db.Close()
	before, after, err := store.Compact(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if after >= before {
		t.Errorf("compact: %d bytes before, %d after", before, after)
	}
	db2, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if n, _ := db2.MessageCount(u[0]); n != 1 {
		t.Errorf("%d messages after compact, want 1", n)
	}
	if err := db2.Check(); err != nil {
		t.Errorf("Check after compact: %v", err)
	}
}
