package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Once a write could not grow the file (a full disk, a quota, the file
// size limit), deliveries leave reservePages free pages alone: deleting
// mail needs a few new pages too (bbolt copies the pages it changes), and
// deleting is how a full mailbase gets room again. Without the reserve
// the last deliveries use up every free page and POP3 users cannot delete
// until the sysop frees room.
const (
	reservePages = 64
	// deliveryPages is what a delivery takes besides its text: the
	// records of the copy, the counters and the pages bbolt copies on
	// the way to them.
	deliveryPages = 16
	// probeEvery is how often a delivery refused for want of room checks
	// whether the file can grow again.
	probeEvery = 10 * time.Second
)

// metaProbe is the key of the probe's filler value in the meta bucket;
// it exists only between the two transactions of one probe.
const metaProbe = "room.probe"

// room remembers that the file could not grow.
type room struct {
	// isFull mirrors full for the common case, a file that grows: a
	// delivery then takes no lock here.
	isFull atomic.Bool
	mu     sync.Mutex
	full   bool
	errno  syscall.Errno // what the failed grow said
	size   int64         // the committed size of the mailbase then
	probe  time.Time     // no probe before this
}

// setRoom forgets that the file could not grow; r.mu is held.
func (r *room) setRoom() {
	r.full = false
	r.isFull.Store(false)
}

// storageErrno returns the errno that says err is a failure to grow the
// file, or 0.
func storageErrno(err error) syscall.Errno {
	for _, errno := range storageErrnos {
		if errors.Is(err, errno) {
			return errno
		}
	}
	return 0
}

// noteRoom records the outcome of a delivery's write.
func (db *DB) noteRoom(err error) {
	errno := storageErrno(err)
	if errno == 0 {
		return
	}
	r := &db.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		r.probe = time.Now().Add(probeEvery)
	}
	r.full, r.errno, r.size = true, errno, db.committedSize()
	r.isFull.Store(true)
}

// admit decides whether a delivery of n bytes may try to commit. While
// the file is known not to grow, it may when the free pages hold it and
// the reserve besides; otherwise it is refused with the errno of the
// failed grow, and at most every probeEvery a probe checks whether the
// file can grow again.
func (db *DB) admit(n int) error {
	r := &db.room
	if !r.isFull.Load() {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return nil
	}
	if db.committedSize() > r.size {
		r.setRoom() // another write grew the mailbase: there is room again
		return nil
	}
	free := db.bolt.Stats().FreePageN
	if free >= n/db.bolt.Info().PageSize+deliveryPages+reservePages {
		return nil
	}
	if time.Now().After(r.probe) {
		r.probe = time.Now().Add(probeEvery)
		if db.probeGrow(free) == nil {
			r.setRoom()
			return nil
		}
		// A failed probe may still have grown the mailbase (its filler
		// committed, the removal failed): that is no room for mail.
		r.size = db.committedSize()
	}
	return noSpace{err: fmt.Errorf("the mailbase cannot grow (%w) and its last %d free pages are kept for deleting mail", r.errno, free), errno: r.errno}
}

// probeGrow checks whether the file can grow by storing a value larger
// than all its free pages together, which bbolt can only place by growing
// the file, and deleting it again. A failed grow stores nothing; a
// successful one leaves the file larger and the value's pages free. The
// filler is random: a file system that compresses would store zeros in
// no space at all and report room that is not there.
func (db *DB) probeGrow(free int) error {
	filler := make([]byte, (free+1)*db.bolt.Info().PageSize)
	if _, err := rand.Read(filler); err != nil {
		return err
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(metaProbe), filler)
	})
	if err != nil {
		return storageErr(err)
	}
	return db.bolt.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Delete([]byte(metaProbe))
	})
}

// committedSize is the size of the mailbase as its last commit left it.
// The file's own size will not do: on most file systems bbolt grows the
// file with a truncate that succeeds on a full disk (the file is sparse)
// before the page writes fail, so a failed write can leave the file
// larger without any room having appeared.
func (db *DB) committedSize() int64 {
	var n int64
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	return n
}
