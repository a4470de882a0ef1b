package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Stats counts what the mailbase holds.
type Stats struct {
	Users    int // deleted ones included
	Messages int // in all mailboxes
	Posts    int
	Netmail  int
	Queue    int
	Bodies   int // distinct message texts
	Bytes    int64
}

// Stats counts users, messages and texts, for `bbsmail check` and tests.
func (db *DB) Stats() (Stats, error) {
	var s Stats
	err := db.bolt.View(func(tx *bolt.Tx) error {
		s.Users = tx.Bucket([]byte(bucketUsers)).Stats().KeyN
		s.Netmail = tx.Bucket([]byte(bucketNetmail)).Stats().KeyN
		s.Queue = tx.Bucket([]byte(bucketQueue)).Stats().KeyN
		// Not Stats().KeyN: a big text's own bucket would count twice.
		s.Bodies = countKeys(tx.Bucket([]byte(bucketBodies)))
		s.Messages = countNested(tx.Bucket([]byte(bucketMail)))
		s.Posts = countNested(tx.Bucket([]byte(bucketSubs)))
		s.Bytes = tx.Size()
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats: %w", err)
	}
	return s, nil
}

// countKeys counts the keys of b itself, nested buckets as one each.
func countKeys(b *bolt.Bucket) int {
	n := 0
	_ = b.ForEach(func([]byte, []byte) error {
		n++
		return nil
	})
	return n
}

// countNested counts the keys of the buckets nested in parent.
func countNested(parent *bolt.Bucket) int {
	n := 0
	_ = parent.ForEachBucket(func(k []byte) error {
		n += parent.Bucket(k).Stats().KeyN
		return nil
	})
	return n
}

// Check verifies the mailbase: bbolt's own page consistency, that every
// text's reference count equals the copies that point at it, with no text
// missing and none orphaned, and that the queue's due index lists exactly
// the entries waiting for an attempt. It returns all problems found.
func (db *DB) Check() error {
	var problems []error
	err := db.bolt.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			problems = append(problems, err)
		}
		want, err := countRefs(tx)
		if err != nil {
			return err
		}
		refs := tx.Bucket([]byte(bucketRefs))
		bodies := tx.Bucket([]byte(bucketBodies))
		err = bodies.ForEach(func(k, _ []byte) error {
			id := binary.BigEndian.Uint64(k)
			v := refs.Get(k)
			switch {
			case len(v) != 4:
				problems = append(problems, fmt.Errorf("body %d has no reference count", id))
			case binary.BigEndian.Uint32(v) != want[id]:
				problems = append(problems, fmt.Errorf("body %d counts %d references, has %d", id, binary.BigEndian.Uint32(v), want[id]))
			}
			delete(want, id)
			return nil
		})
		for id, n := range want {
			problems = append(problems, fmt.Errorf("%d copies point at missing body %d", n, id))
		}
		if err != nil {
			return err
		}
		qp, err := checkQueueIndex(tx)
		problems = append(problems, qp...)
		return err
	})
	if err != nil {
		problems = append(problems, err)
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("store: check: %w", err)
	}
	return nil
}

// countRefs counts, per body id, the records that refer to it.
func countRefs(tx *bolt.Tx) (map[uint64]uint32, error) {
	want := map[uint64]uint32{}
	count := func(k, v []byte) error {
		var r struct{ Body uint64 }
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("record %x: %w", k, err)
		}
		want[r.Body]++
		return nil
	}
	for _, name := range []string{bucketMail, bucketSubs} {
		parent := tx.Bucket([]byte(name))
		err := parent.ForEachBucket(func(k []byte) error {
			return parent.Bucket(k).ForEach(count)
		})
		if err != nil {
			return nil, err
		}
	}
	for _, name := range []string{bucketNetmail, bucketQueue} {
		if err := tx.Bucket([]byte(name)).ForEach(count); err != nil {
			return nil, err
		}
	}
	return want, nil
}
