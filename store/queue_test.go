package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// queueTwo queues one message for two remote recipients and returns
// their queue ids.
func queueTwo(t *testing.T, db *store.DB, when time.Time) []uint64 {
	t.Helper()
	env := &envelope.Envelope{
		ReversePath: "sysop@bbs.example", Received: when,
		Auth: &envelope.Identity{User: 1, Alias: "Sysop"},
		Rcpts: []envelope.Rcpt{
			{Kind: envelope.KindRemote, NetAddr: "a@one.example", Trace: []byte("X-Trace: a\r\n")},
			{Kind: envelope.KindRemote, NetAddr: "b@two.example:2525", Trace: []byte("X-Trace: b\r\n")},
		},
	}
	r, err := db.Deliver(env, []byte(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	return r.QueueIDs
}

func TestQueueClaimIsExclusive(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	now := time.Now()
	ids := queueTwo(t, db, now)

	if got, _ := db.QueueClaim(now.Add(-time.Minute), 10, false); len(got) != 0 {
		t.Fatalf("claimed %d entries before they were due", len(got))
	}
	got, err := db.QueueClaim(now, 1, false)
	if err != nil || len(got) != 1 || got[0].ID != ids[0] || !got[0].InTransit {
		t.Fatalf("first claim %+v %v", got, err)
	}
	e := got[0]
	if e.Rcpt != "a@one.example" || e.ReversePath != "sysop@bbs.example" || e.LocalSender != 1 ||
		e.Subject != "café meeting" || e.Attempts != 0 || e.Size != int64(len("X-Trace: a\r\n")+len(sampleMsg)) {
		t.Fatalf("entry %+v", e)
	}
	got, err = db.QueueClaim(now, 10, false)
	if err != nil || len(got) != 1 || got[0].ID != ids[1] || got[0].Rcpt != "b@two.example:2525" {
		t.Fatalf("second claim %+v %v; want only the unclaimed entry", got, err)
	}
	if got, _ := db.QueueClaim(now, 10, false); len(got) != 0 {
		t.Fatalf("third claim returned %d entries in transit", len(got))
	}
	// SEND_INTRANSIT: entries in transit may be claimed again.
	if got, _ := db.QueueClaim(now, 10, true); len(got) != 2 {
		t.Fatalf("claim including in-transit returned %d, want 2", len(got))
	}
	if _, ok, _ := db.NextQueueTime(); ok {
		t.Fatal("NextQueueTime counts entries in transit")
	}
}

func TestQueueDeferAndRetry(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	now := time.Now()
	ids := queueTwo(t, db, now)
	if _, err := db.QueueClaim(now, 10, false); err != nil {
		t.Fatal(err)
	}
	later := now.Add(time.Hour)
	if err := db.QueueDefer(ids[0], later, "421 try again"); err != nil {
		t.Fatal(err)
	}
	if err := db.QueueDefer(ids[1], later.Add(time.Hour), "no MX"); err != nil {
		t.Fatal(err)
	}
	list, err := db.QueueList()
	if err != nil || len(list) != 2 {
		t.Fatalf("list %v %v", list, err)
	}
	if e := list[0]; e.Attempts != 1 || e.LastError != "421 try again" || e.InTransit || !e.NextAttempt.Equal(later) {
		t.Fatalf("deferred entry %+v", e)
	}
	next, ok, err := db.NextQueueTime()
	if err != nil || !ok || !next.Equal(later) {
		t.Fatalf("NextQueueTime = %v %v %v; want %v", next, ok, err, later)
	}
	if got, _ := db.QueueClaim(now, 10, false); len(got) != 0 {
		t.Fatal("a deferred entry was claimed before its time")
	}
	if err := db.QueueRetry(ids[0]); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.QueueClaim(time.Now(), 10, false); len(got) != 1 || got[0].ID != ids[0] {
		t.Fatalf("after retry of one: %+v", got)
	}
	if err := db.QueueRetry(0); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.QueueClaim(time.Now(), 10, false); len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("after retry of all: %+v", got)
	}
	if err := db.QueueRetry(999); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("retry of a missing entry: %v", err)
	}
}

func TestQueueClearTransit(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	now := time.Now()
	queueTwo(t, db, now)
	if _, err := db.QueueClaim(now, 10, false); err != nil {
		t.Fatal(err)
	}
	// As after a crash: both entries are stuck in transit until cleared.
	n, err := db.QueueClearTransit()
	if err != nil || n != 2 {
		t.Fatalf("cleared %d, %v; want 2", n, err)
	}
	if got, _ := db.QueueClaim(now, 10, false); len(got) != 2 {
		t.Fatalf("after clearing, claim returned %d", len(got))
	}
}

func TestQueueRemovalFreesText(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	ids := queueTwo(t, db, time.Now())
	msg, err := db.QueueMessage(ids[1])
	if err != nil || string(msg) != "X-Trace: b\r\n"+sampleMsg {
		t.Fatalf("QueueMessage = %q %v", msg, err)
	}
	if err := db.QueueDelivered(ids[0]); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.Stats(); st.Bodies != 1 || st.Queue != 1 {
		t.Fatalf("after one delivery: %+v", st)
	}
	if err := db.QueueDelivered(ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delivering twice: %v", err)
	}
	if err := db.QueueDrop(ids[1]); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.Stats(); st.Bodies != 0 || st.Queue != 0 {
		t.Fatalf("after drop: %+v; want the text freed", st)
	}
	if _, err := db.QueueMessage(ids[1]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("message of a dropped entry: %v", err)
	}

	ids = queueTwo(t, db, time.Now())
	for _, id := range ids {
		if err := db.QueueFail(id, "550 no such user"); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := db.Stats(); st.Bodies != 0 || st.Queue != 0 {
		t.Fatalf("after fail: %+v", st)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}
