package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// waitGroupLen waits until the gathering group holds n writes.
func waitGroupLen(t *testing.T, db *DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		db.groups.mu.Lock()
		got := 0
		if db.groups.open != nil {
			got = len(db.groups.open.calls)
		}
		db.groups.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the open group holds %d writes, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Writes that arrive while a commit is under way join the group waiting
// behind it, even after that group's delay has passed: they share one
// transaction instead of forming further groups. A write that fails in
// the group gets its own error and the others still commit.
func TestGroupCommitJoinsWhileCommitRuns(t *testing.T) {
	t.Parallel()
	// A delay of a nanosecond: the group's timer has long fired when the
	// last writers arrive.
	db, err := Open(filepath.Join(t.TempDir(), "mail.db"), Options{MaxBatchDelay: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	before := lastTx(t, db)
	db.groups.running.Lock() // a commit under way
	const writers = 8
	var (
		mu  sync.Mutex
		txs = map[int]bool{}
		wg  sync.WaitGroup
	)
	errs := make([]error, writers)
	bad := errors.New("this write fails")
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.batch(func(tx *bolt.Tx) error {
				if i == 3 {
					return bad
				}
				mu.Lock()
				txs[tx.ID()] = true
				mu.Unlock()
				return tx.Bucket([]byte(bucketMeta)).Put(fmt.Appendf(nil, "k%d", i), []byte("v"))
			}, 100)
		}()
		waitGroupLen(t, db, i+1)
	}
	db.groups.running.Unlock()
	wg.Wait()

	for i, err := range errs {
		if i == 3 {
			if !errors.Is(err, bad) {
				t.Errorf("the failing write returned %v, want its own error", err)
			}
		} else if err != nil {
			t.Errorf("write %d: %v", i, err)
		}
	}
	// The group's first attempt ran into the failing write and rolled
	// back; its commit is the one transaction the others' last run saw.
	if err := db.bolt.View(func(tx *bolt.Tx) error {
		for i := range writers {
			if got := tx.Bucket([]byte(bucketMeta)).Get(fmt.Appendf(nil, "k%d", i)); (got != nil) != (i != 3) {
				t.Errorf("key k%d stored = %v", i, got != nil)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// A rolled-back attempt leaves the id to the next transaction: one id
	// and one commit mean the seven writes shared it.
	if after := lastTx(t, db); len(txs) != 1 || after != before+1 {
		t.Errorf("the writes ran in %d transactions, %d commits; want 1 and 1", len(txs), after-before)
	}
}

// lastTx is the id of the last committed transaction.
func lastTx(t *testing.T, db *DB) int {
	t.Helper()
	var id int
	if err := db.bolt.View(func(tx *bolt.Tx) error { id = tx.ID(); return nil }); err != nil {
		t.Fatal(err)
	}
	return id
}

// Large texts do not pile up in one group: a write that would take the
// gathering group past maxGroupBytes starts the next group, so bbolt holds
// the copies of one group's texts at a time, not of every waiting message.
func TestGroupCommitBoundsText(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "mail.db"), Options{MaxBatchDelay: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := lastTx(t, db)
	db.groups.running.Lock()
	var wg sync.WaitGroup
	put := func(k string, size int) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.batch(func(tx *bolt.Tx) error {
				return tx.Bucket([]byte(bucketMeta)).Put([]byte(k), []byte("v"))
			}, size); err != nil {
				t.Error(err)
			}
		}()
	}
	put("small", 1000)
	waitGroupLen(t, db, 1)
	put("big1", maxGroupBytes/2)
	waitGroupLen(t, db, 2)
	put("big2", maxGroupBytes/2) // over the bound: a group of its own
	waitGroupLen(t, db, 1)
	put("small2", 1000) // joins big2's group
	waitGroupLen(t, db, 2)
	db.groups.running.Unlock()
	wg.Wait()
	if commits := lastTx(t, db) - before; commits != 2 {
		t.Errorf("%d commits, want 2 (small+big1, big2+small2)", commits)
	}
}
