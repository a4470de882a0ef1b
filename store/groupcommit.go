package store

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Group commit: concurrent writers share one transaction, and so its two
// fsyncs. It works like bbolt's Batch (a group gathers for MaxBatchDelay,
// or until MaxBatchSize, then runs every function in one Update; a
// function that fails is taken out and run alone) with one difference:
// a group stays open until it holds the commit lock, not only until its
// timer fires. Under load a commit takes longer than the delay, and with
// bbolt's Batch the writers that arrived meanwhile formed further small
// groups queued behind it; here they join the group that is waiting
// anyway, so there are fewer, larger commits and nobody waits longer.

// maxGroupBytes bounds the text a group gathers. bbolt copies every value
// of a transaction into its dirty pages until the commit, so a group of
// large messages would hold all their copies at once; a delivery that
// would take a group past this starts the next one (a larger text still
// gets a group, alone). Small mail never comes near it: 64 deliveries of
// 4 KiB are 256 KiB.
const maxGroupBytes = 4 << 20

// groups holds the group that is gathering and serialises group commits.
type groups struct {
	mu      sync.Mutex // guards open
	open    *group
	running sync.Mutex // held by the group that commits
}

// group is one shared transaction in the making.
type group struct {
	calls []groupCall
	bytes int           // the sizes the writes announced
	ready chan struct{} // closed when the group is full
	full  bool
}

// close stops the group gathering; it commits as soon as it may.
func (o *group) close() {
	if !o.full {
		o.full = true
		close(o.ready)
	}
}

type groupCall struct {
	fn  func(*bolt.Tx) error
	err chan error
}

// errRunAlone tells a caller that its function failed inside a group and
// must be run in a transaction of its own, where its error is its own.
var errRunAlone = errors.New("store: run the write alone")

// batch runs fn, which stores about size octets, in a transaction shared
// with the other writers of its group and returns once that transaction
// has committed (or fn's own error). fn may run more than once.
func (db *DB) batch(fn func(*bolt.Tx) error, size int) error {
	c := groupCall{fn: fn, err: make(chan error, 1)}
	g := &db.groups
	g.mu.Lock()
	if o := g.open; o != nil && !o.full && len(o.calls) > 0 && o.bytes+size > maxGroupBytes {
		o.close()
	}
	if g.open == nil || g.open.full {
		g.open = &group{ready: make(chan struct{})}
		go db.runGroup(g.open)
	}
	o := g.open
	o.calls = append(o.calls, c)
	o.bytes += size
	if len(o.calls) >= db.bolt.MaxBatchSize || o.bytes >= maxGroupBytes {
		o.close()
	}
	g.mu.Unlock()
	err := <-c.err
	if errors.Is(err, errRunAlone) {
		if err = db.bolt.Update(fn); err == nil {
			db.committed(1)
		}
	}
	return err
}

// runGroup waits for the group to fill or its delay to pass, then for the
// commit lock, and commits it; writers arriving until then join it.
func (db *DB) runGroup(o *group) {
	t := time.NewTimer(db.bolt.MaxBatchDelay)
	select {
	case <-t.C:
	case <-o.ready:
		t.Stop()
	}
	g := &db.groups
	g.running.Lock()
	defer g.running.Unlock()
	g.mu.Lock()
	if g.open == o {
		g.open = nil
	}
	calls := o.calls
	g.mu.Unlock()
	for len(calls) > 0 {
		failed := -1
		err := db.bolt.Update(func(tx *bolt.Tx) error {
			for i, c := range calls {
				if err := callSafely(c.fn, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed >= 0 {
			calls[failed].err <- errRunAlone
			calls = append(calls[:failed:failed], calls[failed+1:]...)
			continue
		}
		if err == nil {
			db.committed(len(calls))
		}
		for _, c := range calls {
			c.err <- err
		}
		return
	}
}

// callSafely runs fn, turning a panic into an error so that one writer's
// panic fails only its own write (it is run again alone, and panics there
// in its own goroutine).
func callSafely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store: panic in a write: %v", p)
		}
	}()
	return fn(tx)
}
