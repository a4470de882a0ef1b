package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// QueueEntry is one recipient of one message waiting for SMTP delivery.
type QueueEntry struct {
	ID          uint64
	ReversePath string // "" for the null sender (bounces)
	Rcpt        string // user@host, or user@host:port for a fixed server
	Created     time.Time
	NextAttempt time.Time
	Attempts    int
	LastError   string
	// InTransit is set while a delivery attempt owns the entry; an entry
	// left in transit by a crash is released by QueueClearTransit.
	InTransit   bool
	LocalSender uint32 // the authenticated local sender; 0 when none
	Subject     string
	Size        int64
}

type queueRecord struct {
	QueueEntry
	Body  uint64
	Trace []byte
}

func (q *queueRecord) setID(id uint64) { q.ID = id }

func decodeQueue(k, v []byte) (queueRecord, error) {
	var q queueRecord
	if err := json.Unmarshal(v, &q); err != nil {
		return q, fmt.Errorf("queue entry %x: %w", k, err)
	}
	q.ID = binary.BigEndian.Uint64(k)
	return q, nil
}

func putQueue(b *bolt.Bucket, q *queueRecord) error {
	v, err := json.Marshal(q)
	if err != nil {
		return err
	}
	return b.Put(u64(q.ID), v)
}

// QueueClaim picks up to limit entries that are due at now and not in
// transit (or in transit too, with includeInTransit), marks them in
// transit and commits before returning them: a second claim, by this or
// any other runner, does not return them again.
func (db *DB) QueueClaim(now time.Time, limit int, includeInTransit bool) ([]QueueEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []QueueEntry
	err := db.write(func(tx *bolt.Tx) error {
		out = nil
		b := tx.Bucket([]byte(bucketQueue))
		var claimed []queueRecord
		c := b.Cursor()
		for k, v := c.First(); k != nil && len(claimed) < limit; k, v = c.Next() {
			q, err := decodeQueue(k, v)
			if err != nil {
				return err
			}
			if q.NextAttempt.After(now) || (q.InTransit && !includeInTransit) {
				continue
			}
			claimed = append(claimed, q)
		}
		// Written after the scan: a cursor must not walk a bucket that is
		// being changed under it.
		for i := range claimed {
			claimed[i].InTransit = true
			if err := putQueue(b, &claimed[i]); err != nil {
				return err
			}
			out = append(out, claimed[i].QueueEntry)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue claim: %w", err)
	}
	return out, nil
}

// QueueMessage returns the full message of queue entry id: its trace
// header block followed by the text, CRLF, ready to send.
func (db *DB) QueueMessage(id uint64) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		q, err := getQueue(tx, id)
		if err == nil {
			out, err = readBody(tx, q.Body, q.Trace)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

func getQueue(tx *bolt.Tx, id uint64) (queueRecord, error) {
	v := tx.Bucket([]byte(bucketQueue)).Get(u64(id))
	if v == nil {
		return queueRecord{}, fmt.Errorf("queue entry %d: %w", id, ErrNotFound)
	}
	return decodeQueue(u64(id), v)
}

// removeQueue deletes entry id and drops its reference to the text.
func (db *DB) removeQueue(what string, id uint64) error {
	err := db.write(func(tx *bolt.Tx) error {
		q, err := getQueue(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketQueue)).Delete(u64(id)); err != nil {
			return err
		}
		return unrefBody(tx, q.Body)
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// QueueDelivered removes entry id after a successful delivery.
func (db *DB) QueueDelivered(id uint64) error { return db.removeQueue("queue delivered", id) }

// QueueFail removes entry id after a permanent failure. The caller has
// already sent the bounce and logged lastErr; the mailbase keeps no record
// of failed mail.
func (db *DB) QueueFail(id uint64, lastErr string) error {
	return db.removeQueue("queue fail", id)
}

// QueueDrop removes entry id without delivering it (the sysop's choice).
func (db *DB) QueueDrop(id uint64) error { return db.removeQueue("queue drop", id) }

// QueueDefer records a failed attempt on entry id: Attempts goes up,
// LastError and NextAttempt are set, and the entry leaves transit.
func (db *DB) QueueDefer(id uint64, next time.Time, lastErr string) error {
	return db.updateQueue("queue defer", id, func(q *queueRecord) bool {
		q.Attempts++
		q.LastError = clip(lastErr)
		q.NextAttempt = next
		q.InTransit = false
		return true
	})
}

// QueueRetry makes entry id due now; id 0 means every entry.
func (db *DB) QueueRetry(id uint64) error {
	now := time.Now()
	return db.updateQueue("queue retry", id, func(q *queueRecord) bool {
		q.NextAttempt = now
		return true
	})
}

// QueueClearTransit takes every entry out of transit and returns how many
// were in it. At start-up no attempt can be running, so an entry still in
// transit was interrupted by a crash and must be tried again.
func (db *DB) QueueClearTransit() (int, error) {
	n := 0
	err := db.updateQueue("queue clear transit", 0, func(q *queueRecord) bool {
		if !q.InTransit {
			return false
		}
		q.InTransit = false
		n++
		return true
	})
	return n, err
}

// updateQueue applies fn to entry id, or to all entries when id is 0, and
// stores those for which fn reports a change.
func (db *DB) updateQueue(what string, id uint64, fn func(*queueRecord) bool) error {
	err := db.write(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketQueue))
		if id != 0 {
			q, err := getQueue(tx, id)
			if err != nil || !fn(&q) {
				return err
			}
			return putQueue(b, &q)
		}
		var changed []queueRecord
		err := b.ForEach(func(k, v []byte) error {
			q, err := decodeQueue(k, v)
			if err == nil && fn(&q) {
				changed = append(changed, q)
			}
			return err
		})
		for i := 0; err == nil && i < len(changed); i++ {
			err = putQueue(b, &changed[i])
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// QueueList returns every queue entry, oldest first.
func (db *DB) QueueList() ([]QueueEntry, error) {
	var out []QueueEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketQueue)).ForEach(func(k, v []byte) error {
			q, err := decodeQueue(k, v)
			if err == nil {
				out = append(out, q.QueueEntry)
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue list: %w", err)
	}
	return out, nil
}

// NextQueueTime returns the earliest NextAttempt among entries not in
// transit, so the scheduler knows how long it may sleep; ok is false when
// there are none.
func (db *DB) NextQueueTime() (next time.Time, ok bool, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketQueue)).ForEach(func(k, v []byte) error {
			q, err := decodeQueue(k, v)
			if err != nil || q.InTransit {
				return err
			}
			if !ok || q.NextAttempt.Before(next) {
				next, ok = q.NextAttempt, true
			}
			return nil
		})
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next queue time: %w", err)
	}
	return next, ok, nil
}
