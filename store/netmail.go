package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/bbsmail/bbsmail/envelope"
)

// Buckets of the netmail exporter and importer. They came after schema 2
// without a version change: they are created on first use, and code that
// does not know them ignores them.
const (
	// bucketNetmailPacked maps a netmail id to the temporary packet the
	// exporter packed it into (see package ftn): the record that makes an
	// export exactly once across a crash.
	bucketNetmailPacked = "netmail.packed"
	// bucketImported holds the keys (MSGID or digest) of imported netmail
	// with the import time, so a packet read twice stores nothing twice.
	bucketImported = "netmail.imported"
	// bucketNetmailDone keeps exported netmail (id → NetmailDone, without
	// the text) for the operator: packed into which packet, and when that
	// packet left the outbound.
	bucketNetmailDone = "netmail.done"
)

// How long and how many sent netmail records are kept (see
// NetmailSentCheck).
const (
	NetmailSentKeep = 30 * 24 * time.Hour
	NetmailSentMax  = 1000
)

// NetmailMark is the packed mark of one netmail: the temporary packet it
// was packed into and the packet that file becomes.
type NetmailMark struct {
	Tmp, Final string
}

// NetmailDone is a netmail that left the mailbase into Packet. Sent is
// zero while the packet waits in the outbound.
type NetmailDone struct {
	NetmailEntry
	Packet   string
	Exported time.Time
	Sent     time.Time
}

// NetmailPacked returns the netmail marked packed.
func (db *DB) NetmailPacked() (map[uint64]NetmailMark, error) {
	out := map[uint64]NetmailMark{}
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNetmailPacked))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			if len(k) == 8 {
				// Marks written before the final name was recorded hold
				// only the temporary file.
				tmp, final, _ := strings.Cut(string(v), "\x00")
				out[be64(k)] = NetmailMark{Tmp: tmp, Final: final}
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: packed netmail: %w", err)
	}
	return out, nil
}

// PackNetmail marks ids as packed into the temporary packet tmp, which
// becomes final. Every id must be waiting netmail.
func (db *DB) PackNetmail(ids []uint64, tmp, final string) error {
	err := db.write(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(bucketNetmailPacked))
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := getNetmail(tx, id); err != nil {
				return err
			}
			if err := b.Put(u64(id), []byte(tmp+"\x00"+final)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: pack netmail: %w", err)
	}
	return nil
}

// UnpackNetmail clears the packed marks of ids: they wait again.
func (db *DB) UnpackNetmail(ids []uint64) error {
	err := db.write(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNetmailPacked))
		if b == nil {
			return nil
		}
		for _, id := range ids {
			if err := b.Delete(u64(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: unpack netmail: %w", err)
	}
	return nil
}

// NetmailExported removes ids and their marks in one transaction and
// records them as packed into packet (see NetmailDone). An id already gone
// is skipped, so finishing an interrupted export twice is harmless. fresh
// says packet was started anew: the netmail recorded in an earlier packet
// of that name was sent, since the mailer removed that packet.
func (db *DB) NetmailExported(ids []uint64, packet string, fresh bool) error {
	now := time.Now()
	err := db.write(func(tx *bolt.Tx) error {
		done, err := tx.CreateBucketIfNotExists([]byte(bucketNetmailDone))
		if err != nil {
			return err
		}
		if fresh {
			if err := markSent(done, func(p string) bool { return p == packet }, now); err != nil {
				return err
			}
		}
		packed := tx.Bucket([]byte(bucketNetmailPacked))
		for _, id := range ids {
			if packed != nil {
				if err := packed.Delete(u64(id)); err != nil {
					return err
				}
			}
			e, err := getNetmail(tx, id)
			if err != nil {
				continue
			}
			if err := tx.Bucket([]byte(bucketNetmail)).Delete(u64(id)); err != nil {
				return err
			}
			if err := unrefBody(tx, e.Body); err != nil {
				return err
			}
			v, err := json.Marshal(NetmailDone{NetmailEntry: e.NetmailEntry, Packet: packet, Exported: now})
			if err != nil {
				return err
			}
			if err := done.Put(u64(id), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: netmail exported: %w", err)
	}
	return nil
}

// NetmailSent lists the exported netmail still recorded, oldest first.
func (db *DB) NetmailSent() ([]NetmailDone, error) {
	var out []NetmailDone
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNetmailDone))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var d NetmailDone
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("netmail %x: %w", k, err)
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: sent netmail: %w", err)
	}
	return out, nil
}

// NetmailSentCheck marks as sent at now the exported netmail whose packet
// is gone (the mailer sends a packet and deletes it), then forgets sent
// netmail older than NetmailSentKeep, and the oldest beyond
// NetmailSentMax. gone is asked once per packet.
func (db *DB) NetmailSentCheck(gone func(packet string) bool, now time.Time) error {
	cache := map[string]bool{}
	isGone := func(p string) bool {
		g, ok := cache[p]
		if !ok {
			g = p == "" || gone(p)
			cache[p] = g
		}
		return g
	}
	// A pass that changes nothing writes nothing: the server checks on
	// every netmail pass.
	need := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNetmailDone))
		if b == nil {
			return nil
		}
		sent := 0
		return b.ForEach(func(_, v []byte) error {
			var d NetmailDone
			if json.Unmarshal(v, &d) != nil {
				return nil
			}
			if !d.Sent.IsZero() {
				sent++
			}
			if (d.Sent.IsZero() && isGone(d.Packet)) || (!d.Sent.IsZero() && now.Sub(d.Sent) > NetmailSentKeep) || sent > NetmailSentMax {
				need = true
			}
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("store: sent netmail: %w", err)
	}
	if !need {
		return nil
	}
	err = db.write(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketNetmailDone))
		if b == nil {
			return nil
		}
		if err := markSent(b, isGone, now); err != nil {
			return err
		}
		return pruneSent(b, now)
	})
	if err != nil {
		return fmt.Errorf("store: sent netmail: %w", err)
	}
	return nil
}

// markSent sets Sent on the unsent records whose packet sent reports.
func markSent(b *bolt.Bucket, sent func(packet string) bool, now time.Time) error {
	var keys [][]byte
	var recs []NetmailDone
	err := b.ForEach(func(k, v []byte) error {
		var d NetmailDone
		if json.Unmarshal(v, &d) == nil && d.Sent.IsZero() && sent(d.Packet) {
			d.Sent = now
			keys, recs = append(keys, append([]byte(nil), k...)), append(recs, d)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, k := range keys {
		v, err := json.Marshal(recs[i])
		if err != nil {
			return err
		}
		if err := b.Put(k, v); err != nil {
			return err
		}
	}
	return nil
}

// pruneSent drops sent records older than NetmailSentKeep and the oldest
// beyond NetmailSentMax (keys are in export order).
func pruneSent(b *bolt.Bucket, now time.Time) error {
	var sent, old [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var d NetmailDone
		if json.Unmarshal(v, &d) != nil || d.Sent.IsZero() {
			return nil
		}
		k = append([]byte(nil), k...)
		if now.Sub(d.Sent) > NetmailSentKeep {
			old = append(old, k)
		} else {
			sent = append(sent, k)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n := len(sent) - NetmailSentMax; n > 0 {
		old = append(old, sent[:n]...)
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// DeliverOnce is Deliver for imported mail: it stores msg unless key was
// stored before, in the same transaction that records key, so a message
// read twice (a packet tossed again after a crash, a duplicate sent by a
// link) is stored once. dup reports a key seen before; nothing is stored
// then. An empty key is refused.
func (db *DB) DeliverOnce(key string, env *envelope.Envelope, msg []byte) (r Receipt, dup bool, err error) {
	if key == "" || env == nil || len(env.Rcpts) == 0 {
		return Receipt{}, false, fmt.Errorf("store: deliver once: no key or no recipients: %w", ErrInvalid)
	}
	r, err = db.deliver(env, msg, func(tx *bolt.Tx, d *delivery, r *Receipt) error {
		dup = false
		b, err := tx.CreateBucketIfNotExists([]byte(bucketImported))
		if err != nil {
			return err
		}
		if b.Get([]byte(key)) != nil {
			dup = true
			return nil
		}
		if err := d.store(tx, r); err != nil {
			return err
		}
		return b.Put([]byte(key), u64(uint64(d.now.Unix())))
	})
	if err != nil {
		return Receipt{}, false, err
	}
	return r, dup, nil
}

// ForgetImported drops the import keys recorded before t, so the record
// does not grow forever. A link resending older mail would get it stored
// again.
func (db *DB) ForgetImported(before time.Time) (int, error) {
	n := 0
	err := db.write(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket([]byte(bucketImported))
		if b == nil {
			return nil
		}
		var old [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if len(v) == 8 && int64(be64(v)) < before.Unix() {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: forget imported: %w", err)
	}
	return n, nil
}

func be64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
