package store_test

import (
	"cmp"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// schema1At is a time on the day testdata/schema1.db.gz was written.
func schema1At(h, m int) time.Time { return time.Date(2026, 1, 10, h, m, 0, 0, time.UTC) }

// openSchema1 unpacks testdata/schema1.db.gz, a mailbase written by the
// schema 1 code (before the queue's due index), and returns its path. It
// holds user 1 (Sysop) with one mailbox message and four queue entries:
//
//	1  d@four.example        in transit (left by a crash), due 08:00
//	2  c@three.example       deferred once ("421 try later") to 12:00
//	3  a@one.example         waiting since 10:00
//	4  b@two.example:2525    waiting since 10:00 (same message as 3)
func openSchema1(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "schema1.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mail.db")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// schemaOf reads the schema version of a closed mailbase.
func schemaOf(t *testing.T, path string) uint32 {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	var n uint32
	err = bdb.View(func(tx *bolt.Tx) error {
		n = binary.BigEndian.Uint32(tx.Bucket([]byte("meta")).Get([]byte("schema")))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func ids(list []store.QueueEntry) []uint64 {
	out := make([]uint64, len(list))
	for i, e := range list {
		out[i] = e.ID
	}
	return out
}

// A mailbase from before the due index opens, is upgraded, and its queue
// goes out exactly as it would have: waiting entries in the order they
// fall due, the deferred one at its time, the crashed one after the
// start-up clears it; the rest of the mailbase is untouched.
func TestQueueUpgradeFromSchema1(t *testing.T) {
	t.Parallel()
	path := openSchema1(t)
	if n := schemaOf(t, path); n != 1 {
		t.Fatalf("test file has schema %d, want 1", n)
	}
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("after the upgrade: %v", err)
	}
	next, ok, err := db.NextQueueTime()
	if err != nil || !ok || !next.Equal(schema1At(10, 0)) {
		t.Fatalf("NextQueueTime = %v %v %v; want 10:00", next, ok, err)
	}
	if got, err := db.QueueClaim(schema1At(9, 59), 10, false); err != nil || len(got) != 0 {
		t.Fatalf("claim before 10:00 = %v %v", ids(got), err)
	}
	got, err := db.QueueClaim(schema1At(11, 59), 10, false)
	if err != nil || !slices.Equal(ids(got), []uint64{3, 4}) || got[1].Rcpt != "b@two.example:2525" {
		t.Fatalf("claim at 11:59 = %+v %v; want 3 and 4", got, err)
	}
	if next, ok, _ := db.NextQueueTime(); !ok || !next.Equal(schema1At(12, 0)) {
		t.Fatalf("NextQueueTime after the claim = %v %v; want 12:00", next, ok)
	}
	got, err = db.QueueClaim(schema1At(12, 0), 10, false)
	if err != nil || len(got) != 1 || got[0].ID != 2 || got[0].Attempts != 1 || got[0].LastError != "421 try later" {
		t.Fatalf("claim at 12:00 = %+v %v; want the deferred entry 2", got, err)
	}
	if _, ok, _ := db.NextQueueTime(); ok {
		t.Fatal("NextQueueTime reports an entry while all are in transit")
	}
	n, err := db.QueueClearTransit()
	if err != nil || n != 4 {
		t.Fatalf("QueueClearTransit = %d %v; want 4", n, err)
	}
	got, err = db.QueueClaim(schema1At(12, 0), 10, false)
	if err != nil || !slices.Equal(ids(got), []uint64{1, 3, 4, 2}) {
		t.Fatalf("claim after clearing = %v %v; want 1 3 4 2 (by due time)", ids(got), err)
	}
	msg, err := db.QueueMessage(4)
	if err != nil || !strings.HasPrefix(string(msg), "X-Trace: b@two.example:2525\r\nFrom: Sysop") {
		t.Fatalf("QueueMessage(4) = %q %v", msg, err)
	}
	box, err := db.Mailbox(1)
	if err != nil || len(box) != 1 {
		t.Fatalf("mailbox after the upgrade: %+v %v", box, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := schemaOf(t, path); n != store.SchemaVersion {
		t.Fatalf("schema after the upgrade = %d, want %d", n, store.SchemaVersion)
	}
}

// modelClaim and modelNext predict, from a full listing, what the queue
// operations must return: QueueClaim takes the due entries not in transit
// in the order they fell due (ties by id), or with includeInTransit the due
// entries in id order; NextQueueTime is the earliest waiting entry.
func modelClaim(list []store.QueueEntry, now time.Time, limit int, inTransit bool) []uint64 {
	var due []store.QueueEntry
	for _, e := range list {
		if !e.NextAttempt.After(now) && (inTransit || !e.InTransit) {
			due = append(due, e)
		}
	}
	if !inTransit {
		slices.SortStableFunc(due, func(a, b store.QueueEntry) int {
			return cmp.Or(a.NextAttempt.Compare(b.NextAttempt), cmp.Compare(a.ID, b.ID))
		})
	}
	return ids(due[:min(limit, len(due))])
}

func modelNext(list []store.QueueEntry) (time.Time, bool) {
	var next time.Time
	ok := false
	for _, e := range list {
		if !e.InTransit && (!ok || e.NextAttempt.Before(next)) {
			next, ok = e.NextAttempt, true
		}
	}
	return next, ok
}

// Random sequences of every queue operation give the same claims and next
// due times as a full scan of the queue, and leave the index consistent.
// When a claim's limit covers every due entry, the set claimed is the set
// the full scan without an index returned.
func TestQueueIndexMatchesFullScan(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			db, _ := openTemp(t)
			r := rand.New(rand.NewPCG(seed, 42))
			base := time.Now().Truncate(time.Second)
			// Whole seconds make ties between due times common.
			randTime := func() time.Time {
				d := time.Duration(r.IntN(7200)-3600) * time.Second
				if r.IntN(4) == 0 {
					d += time.Duration(r.IntN(1000))
				}
				return base.Add(d)
			}
			for step := range 300 {
				list, err := db.QueueList()
				if err != nil {
					t.Fatal(err)
				}
				queueStep(t, db, r, list, randTime)
				if step%50 == 0 {
					if err := db.Check(); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
				}
			}
			if err := db.Check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// queueStep makes one random change and compares its outcome with the
// model over list, the queue before the change.
func queueStep(t *testing.T, db *store.DB, r *rand.Rand, list []store.QueueEntry, randTime func() time.Time) {
	t.Helper()
	pick := func(inTransit bool) (uint64, bool) {
		var c []uint64
		for _, e := range list {
			if e.InTransit == inTransit {
				c = append(c, e.ID)
			}
		}
		if len(c) == 0 {
			return 0, false
		}
		return c[r.IntN(len(c))], true
	}
	var err error
	switch op := r.IntN(20); {
	case op < 5 || len(list) == 0:
		var rcpts []envelope.Rcpt
		for i := range 1 + r.IntN(3) {
			rcpts = append(rcpts, envelope.Rcpt{Kind: envelope.KindRemote, NetAddr: fmt.Sprintf("u%d@d%d.example", i, r.IntN(3))})
		}
		_, err = db.Deliver(&envelope.Envelope{ReversePath: "a@b.example", Received: randTime(), Rcpts: rcpts}, []byte(sampleMsg))
	case op < 10:
		claimStep(t, db, list, randTime(), 1+r.IntN(8), r.IntN(8) == 0)
	case op < 14:
		if id, ok := pick(true); ok {
			next := randTime()
			switch r.IntN(10) {
			case 0:
				next = time.Time{}
			case 1:
				next = time.Date(2400+r.IntN(600), 1, 1, 0, 0, 0, 0, time.UTC)
			}
			err = db.QueueDefer(id, next, "451 later")
		}
	case op < 16:
		if id, ok := pick(r.IntN(2) == 0); ok {
			switch r.IntN(3) {
			case 0:
				err = db.QueueDelivered(id)
			case 1:
				err = db.QueueFail(id, "550 no")
			default:
				err = db.QueueDrop(id)
			}
		}
	case op < 18:
		if id, ok := pick(r.IntN(2) == 0); ok && r.IntN(4) > 0 {
			err = db.QueueRetry(id)
		} else {
			err = db.QueueRetry(0)
		}
	default:
		if r.IntN(3) == 0 {
			_, err = db.QueueClearTransit()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	after, err := db.QueueList()
	if err != nil {
		t.Fatal(err)
	}
	wantNext, wantOK := modelNext(after)
	next, ok, err := db.NextQueueTime()
	if err != nil || ok != wantOK || !next.Equal(wantNext) {
		t.Fatalf("NextQueueTime = %v %v %v, want %v %v", next, ok, err, wantNext, wantOK)
	}
}

// claimStep claims and compares the result with the model over list, the
// queue before the claim.
func claimStep(t *testing.T, db *store.DB, list []store.QueueEntry, now time.Time, limit int, inTransit bool) {
	t.Helper()
	want := modelClaim(list, now, limit, inTransit)
	got, err := db.QueueClaim(now, limit, inTransit)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(got), want) {
		t.Fatalf("QueueClaim(%v, %d, %v) = %v, want %v", now, limit, inTransit, ids(got), want)
	}
	if old := modelClaim(list, now, len(list), inTransit); len(old) <= limit {
		slices.Sort(old)
		if g := slices.Sorted(slices.Values(ids(got))); !slices.Equal(g, old) {
			t.Fatalf("QueueClaim(%v, %d) claimed %v; the full scan claims %v", now, limit, g, old)
		}
	}
}

// An index that lost a key is reported by Check (bbsmail check), and the
// start-up's QueueClearTransit rebuilds it so the entry goes out again.
func TestQueueIndexDamageIsReportedAndRepaired(t *testing.T) {
	t.Parallel()
	db, path := openTemp(t)
	now := time.Now()
	qids := queueTwo(t, db, now)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = bdb.Update(func(tx *bolt.Tx) error {
		due := tx.Bucket([]byte("queue.due"))
		k, _ := due.Cursor().First()
		if k == nil {
			return fmt.Errorf("the index is empty")
		}
		if err := due.Delete(k); err != nil {
			return err
		}
		// A key for an entry that does not exist.
		return due.Put(append(slices.Clone(k[:12]), 0, 0, 0, 0, 0, 0, 0, 99), nil)
	})
	if cerr := bdb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	db, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Check()
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("queue entry %d waits but is missing from the index", qids[0])) ||
		!strings.Contains(err.Error(), "matches no waiting entry") {
		t.Fatalf("Check = %v; want both index problems reported", err)
	}
	if got, _ := db.QueueClaim(now, 10, false); !slices.Equal(ids(got), qids[1:]) {
		t.Fatalf("claim from the damaged index = %v, want %v", ids(got), qids[1:])
	}
	if _, err := db.QueueClearTransit(); err != nil {
		t.Fatal(err)
	}
	if err := db.Check(); err != nil {
		t.Fatalf("after QueueClearTransit: %v", err)
	}
	if got, _ := db.QueueClaim(now, 10, false); !slices.Equal(ids(got), qids) {
		t.Fatalf("claim after the repair = %v, want %v", ids(got), qids)
	}
}
