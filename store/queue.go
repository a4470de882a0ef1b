package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
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

// queueState is what the due index, removals and the text lookup need of
// a record. Decoding only it skips the strings and the trace, which counts
// where every entry is read (start-up) or every delivery (removal).
type queueState struct {
	ID          uint64
	NextAttempt time.Time
	InTransit   bool
	Body        uint64
}

func decodeState(k, v []byte) (queueState, error) {
	var q queueState
	if err := json.Unmarshal(v, &q); err != nil {
		return q, fmt.Errorf("queue entry %x: %w", k, err)
	}
	q.ID = binary.BigEndian.Uint64(k)
	return q, nil
}

// dueKey is the entry's index key, or nil when it is in transit and not
// indexed.
func (q *queueState) dueKey() []byte {
	if q.InTransit {
		return nil
	}
	return dueKey(q.NextAttempt, q.ID)
}

func putQueue(b *bolt.Bucket, q *queueRecord) error {
	v, err := json.Marshal(q)
	if err != nil {
		return err
	}
	return b.Put(u64(q.ID), v)
}

// The due index (bucket queue.due) holds one key per entry that waits for
// its next attempt, that is every entry not in transit: the attempt time,
// then the id. Its cursor order is the order in which entries fall due, so
// claiming and finding the next due time read only the entries concerned
// instead of decoding the whole queue. Every change to an entry updates
// the index in the same transaction; the entry remains the truth, and
// QueueClearTransit rebuilds the index from the entries.

const dueKeyLen = 20

// dueKey returns the index key of an entry due at t: Unix seconds with the
// sign bit flipped, so that byte order is time order for times before 1970
// too, the nanoseconds, and the id. It orders exactly as time.Time.Before
// for every time a time.Time can hold.
func dueKey(t time.Time, id uint64) []byte {
	k := make([]byte, 0, dueKeyLen)
	k = binary.BigEndian.AppendUint64(k, uint64(t.Unix())^(1<<63))
	k = binary.BigEndian.AppendUint32(k, uint32(t.Nanosecond()))
	return binary.BigEndian.AppendUint64(k, id)
}

// dueKeyOf is q's index key, or nil when q is in transit and not indexed.
func dueKeyOf(q *queueRecord) []byte {
	st := queueState{ID: q.ID, NextAttempt: q.NextAttempt, InTransit: q.InTransit}
	return st.dueKey()
}

// reindex moves q's index key from old (nil: none) to where q's present
// state puts it.
func reindex(tx *bolt.Tx, old []byte, q *queueRecord) error {
	due := tx.Bucket([]byte(bucketQueueDue))
	k := dueKeyOf(q)
	if bytes.Equal(old, k) {
		return nil
	}
	if old != nil {
		if err := due.Delete(old); err != nil {
			return err
		}
	}
	if k == nil {
		return nil
	}
	// Most entries are indexed at the time they were queued, which is
	// the end of the index.
	due.FillPercent = appendFill
	return due.Put(k, nil)
}

// rebuildDueIndex replaces the index with one made from the entries. With
// clear, it first takes every entry out of transit and reports how many
// were in it.
func rebuildDueIndex(tx *bolt.Tx, clear bool) (int, error) {
	b := tx.Bucket([]byte(bucketQueue))
	var keys [][]byte
	var stuck []uint64
	err := b.ForEach(func(k, v []byte) error {
		q, err := decodeState(k, v)
		if err != nil {
			return err
		}
		if clear && q.InTransit {
			stuck = append(stuck, q.ID)
			q.InTransit = false
		}
		if dk := q.dueKey(); dk != nil {
			keys = append(keys, dk)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Rewritten after the walk: a cursor must not walk a bucket that is
	// being changed under it.
	for _, id := range stuck {
		q, err := getQueue(tx, id)
		if err != nil {
			return 0, err
		}
		q.InTransit = false
		if err := putQueue(b, &q); err != nil {
			return 0, err
		}
	}
	if tx.Bucket([]byte(bucketQueueDue)) != nil {
		if err := tx.DeleteBucket([]byte(bucketQueueDue)); err != nil {
			return 0, err
		}
	}
	due, err := tx.CreateBucket([]byte(bucketQueueDue))
	if err != nil {
		return 0, err
	}
	// Sorted keys fill pages completely when appended.
	slices.SortFunc(keys, bytes.Compare)
	due.FillPercent = 1
	for _, k := range keys {
		if err := due.Put(k, nil); err != nil {
			return 0, err
		}
	}
	return len(stuck), nil
}

// QueueClaim picks up to limit entries that are due at now and not in
// transit, marks them in transit and commits before returning them: a
// second claim, by this or any other runner, does not return them again.
// Entries come in the order they fell due (earliest first, then by id),
// so an entry waiting for its retry is not overtaken by newer mail.
//
// With includeInTransit, entries in transit are claimable too; that claim
// reads the whole queue and returns due entries in id order. It is meant
// for the first claim after a start-up (SEND_INTRANSIT).
func (db *DB) QueueClaim(now time.Time, limit int, includeInTransit bool) ([]QueueEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	if !includeInTransit {
		// A claim that finds nothing must not cost a commit and its fsync.
		next, ok, err := db.firstDue()
		if err != nil {
			return nil, fmt.Errorf("store: queue claim: %w", err)
		}
		if !ok || next.After(now) {
			return nil, nil
		}
	}
	var out []QueueEntry
	err := db.writeNow(func(tx *bolt.Tx) error {
		out = nil
		var claimed []queueRecord
		var err error
		if includeInTransit {
			claimed, err = scanDue(tx, now, limit)
		} else {
			claimed, err = indexDue(tx, now, limit)
		}
		if err != nil {
			return err
		}
		b := tx.Bucket([]byte(bucketQueue))
		for i := range claimed {
			q := &claimed[i]
			old := dueKeyOf(q)
			q.InTransit = true
			if err := putQueue(b, q); err != nil {
				return err
			}
			if err := reindex(tx, old, q); err != nil {
				return err
			}
			out = append(out, q.QueueEntry)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: queue claim: %w", err)
	}
	return out, nil
}

// indexDue returns up to limit waiting entries due at now, from the index.
// A key whose entry is gone, in transit or due at another time cannot be
// produced by this package; it is dropped rather than allowed to stop
// delivery for good. (DB.Check reports such keys while they last.)
func indexDue(tx *bolt.Tx, now time.Time, limit int) ([]queueRecord, error) {
	end := dueKey(now, math.MaxUint64)
	var out []queueRecord
	var stray [][]byte
	c := tx.Bucket([]byte(bucketQueueDue)).Cursor()
	for k, _ := c.First(); k != nil && len(out) < limit && bytes.Compare(k, end) <= 0; k, _ = c.Next() {
		q, ok, err := dueEntry(tx, k)
		if err != nil {
			return nil, err
		}
		if !ok {
			stray = append(stray, bytes.Clone(k))
			continue
		}
		out = append(out, q)
	}
	// Deleted after the walk: a cursor must not walk a bucket that is
	// being changed under it.
	due := tx.Bucket([]byte(bucketQueueDue))
	for _, k := range stray {
		if err := due.Delete(k); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dueEntry returns the entry an index key points at; ok is false when the
// key does not match a waiting entry.
func dueEntry(tx *bolt.Tx, k []byte) (queueRecord, bool, error) {
	v := dueValue(tx, k)
	if v == nil {
		return queueRecord{}, false, nil
	}
	q, err := decodeQueue(k[12:], v)
	if err != nil {
		return q, false, err
	}
	return q, bytes.Equal(dueKeyOf(&q), k), nil
}

// dueState is dueEntry for callers that need only the entry's state.
func dueState(tx *bolt.Tx, k []byte) (queueState, bool, error) {
	v := dueValue(tx, k)
	if v == nil {
		return queueState{}, false, nil
	}
	q, err := decodeState(k[12:], v)
	if err != nil {
		return q, false, err
	}
	return q, bytes.Equal(q.dueKey(), k), nil
}

// dueValue returns the stored entry an index key names, or nil.
func dueValue(tx *bolt.Tx, k []byte) []byte {
	if len(k) != dueKeyLen {
		return nil
	}
	return tx.Bucket([]byte(bucketQueue)).Get(k[12:])
}

// scanDue returns up to limit entries due at now, in transit or not, in id
// order, reading the whole queue.
func scanDue(tx *bolt.Tx, now time.Time, limit int) ([]queueRecord, error) {
	var out []queueRecord
	c := tx.Bucket([]byte(bucketQueue)).Cursor()
	for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
		q, err := decodeQueue(k, v)
		if err != nil {
			return nil, err
		}
		if !q.NextAttempt.After(now) {
			out = append(out, q)
		}
	}
	return out, nil
}

// writeNow is DB.write without the group-commit wait, for the operations
// that SendMail already groups itself (a claim takes a batch of entries, a
// removal a group of deliveries): waiting up to MaxBatchDelay for partners
// would only add to the latency of every delivery worker. It still counts
// as a writer, so concurrent deliveries keep batching among themselves.
func (db *DB) writeNow(fn func(*bolt.Tx) error) error {
	db.writers.Add(1)
	defer db.writers.Add(-1)
	return db.bolt.Update(fn)
}

// QueueMessage returns the full message of queue entry id: its trace
// header block followed by the text, CRLF, ready to send.
func (db *DB) QueueMessage(id uint64) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketQueue)).Get(u64(id))
		if v == nil {
			return fmt.Errorf("queue entry %d: %w", id, ErrNotFound)
		}
		var q struct {
			Body  uint64
			Trace []byte
		}
		if err := json.Unmarshal(v, &q); err != nil {
			return fmt.Errorf("queue entry %d: %w", id, err)
		}
		var err error
		out, err = readBody(tx, q.Body, q.Trace)
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

// getState reads the state of entry id.
func getState(tx *bolt.Tx, id uint64) (queueState, error) {
	v := tx.Bucket([]byte(bucketQueue)).Get(u64(id))
	if v == nil {
		return queueState{}, fmt.Errorf("queue entry %d: %w", id, ErrNotFound)
	}
	return decodeState(u64(id), v)
}

// removeQueue deletes entry id and drops its reference to the text.
func (db *DB) removeQueue(what string, id uint64) error {
	err := db.write(func(tx *bolt.Tx) error {
		q, err := getState(tx, id)
		if err != nil {
			return err
		}
		return deleteQueue(tx, &q)
	})
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// deleteQueue deletes q with its index key and its reference to the text.
func deleteQueue(tx *bolt.Tx, q *queueState) error {
	if k := q.dueKey(); k != nil {
		if err := tx.Bucket([]byte(bucketQueueDue)).Delete(k); err != nil {
			return err
		}
	}
	if err := tx.Bucket([]byte(bucketQueue)).Delete(u64(q.ID)); err != nil {
		return err
	}
	return unrefBody(tx, q.Body)
}

// QueueDelivered removes entries after a successful delivery, all in one
// transaction: the sender records a group of deliveries with one commit.
// An id that is no longer queued (the sysop dropped it meanwhile) does not
// keep the others from being removed; the error names it and wraps
// ErrNotFound.
func (db *DB) QueueDelivered(ids ...uint64) error {
	var missing []uint64
	err := db.writeNow(func(tx *bolt.Tx) error {
		missing = nil
		for _, id := range ids {
			q, err := getState(tx, id)
			if errors.Is(err, ErrNotFound) {
				missing = append(missing, id)
				continue
			}
			if err != nil {
				return err
			}
			if err := deleteQueue(tx, &q); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && len(missing) > 0 {
		err = fmt.Errorf("queue entries %v: %w", missing, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: queue delivered: %w", err)
	}
	return nil
}

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
// transit was interrupted by a crash and must be tried again. It also
// rebuilds the due index from the entries, in the same transaction.
func (db *DB) QueueClearTransit() (int, error) {
	n := 0
	err := db.write(func(tx *bolt.Tx) error {
		var err error
		n, err = rebuildDueIndex(tx, true)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: queue clear transit: %w", err)
	}
	return n, nil
}

// updateQueue applies fn to entry id, or to all entries when id is 0, and
// stores those for which fn reports a change, moving their index keys.
func (db *DB) updateQueue(what string, id uint64, fn func(*queueRecord) bool) error {
	err := db.write(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketQueue))
		if id != 0 {
			q, err := getQueue(tx, id)
			if err != nil {
				return err
			}
			old := dueKeyOf(&q)
			if !fn(&q) {
				return nil
			}
			if err := putQueue(b, &q); err != nil {
				return err
			}
			return reindex(tx, old, &q)
		}
		type change struct {
			q   queueRecord
			old []byte
		}
		var changed []change
		err := b.ForEach(func(k, v []byte) error {
			q, err := decodeQueue(k, v)
			if err != nil {
				return err
			}
			old := dueKeyOf(&q)
			if fn(&q) {
				changed = append(changed, change{q, old})
			}
			return nil
		})
		for i := 0; err == nil && i < len(changed); i++ {
			c := &changed[i]
			if err = putQueue(b, &c.q); err == nil {
				err = reindex(tx, c.old, &c.q)
			}
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
// there are none. It reads the first key of the due index and its entry.
func (db *DB) NextQueueTime() (next time.Time, ok bool, err error) {
	next, ok, err = db.firstDue()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: next queue time: %w", err)
	}
	return next, ok, nil
}

// firstDue returns the NextAttempt of the first entry in the due index.
// Keys that match no waiting entry are skipped (QueueClaim drops them).
func (db *DB) firstDue() (next time.Time, ok bool, err error) {
	err = db.bolt.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketQueueDue)).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			q, found, err := dueState(tx, k)
			if err != nil {
				return err
			}
			if found {
				next, ok = q.NextAttempt, true
				return nil
			}
		}
		return nil
	})
	return next, ok, err
}

// checkQueueIndex reports index keys that match no waiting entry and
// waiting entries missing from the index.
func checkQueueIndex(tx *bolt.Tx) ([]error, error) {
	var problems []error
	due := tx.Bucket([]byte(bucketQueueDue))
	err := due.ForEach(func(k, _ []byte) error {
		_, ok, err := dueState(tx, k)
		if err == nil && !ok {
			problems = append(problems, fmt.Errorf("queue index key %x matches no waiting entry", k))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	err = tx.Bucket([]byte(bucketQueue)).ForEach(func(k, v []byte) error {
		q, err := decodeState(k, v)
		if err != nil {
			return err
		}
		if dk := q.dueKey(); dk != nil && due.Get(dk) == nil {
			problems = append(problems, fmt.Errorf("queue entry %d waits but is missing from the index", q.ID))
		}
		return nil
	})
	return problems, err
}
