package store

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The spam hash database remembers the bodies of messages known to be
// spam (mail to spam bait, and with DNSBL_SPAMHASH mail from DNS-listed
// clients), so that the same body sent again, by anyone, can be dropped.
// It plays the part of Synchronet's data/spam.hash.
//
// Synchronet keeps CRC-16, CRC-32, MD5 and SHA-1 of each body and calls two
// records a match when every hash both have is equal. A CRC-16 can only
// ever agree where the SHA-1 already does, so it is not kept: a match here
// is the same source, the same normalised length, and equal CRC-32, MD5
// and SHA-1.

// SpamSource says what part of a message a spam hash was taken from.
// Only bodies are hashed; the source is part of the key so that Synchronet's
// other sources (Message-ID, subject) could be added without a new layout.
type SpamSource uint8

// SpamSourceBody is the message body.
const SpamSourceBody SpamSource = 0

func (s SpamSource) String() string {
	if s == SpamSourceBody {
		return "body"
	}
	return fmt.Sprintf("source %d", s)
}

// SpamHash identifies a normalised message body.
type SpamHash struct {
	Source SpamSource
	Length uint32 // octets hashed, after normalisation
	CRC32  uint32 // IEEE polynomial
	MD5    [md5.Size]byte
	SHA1   [sha1.Size]byte
}

// String is the hash a log line names: the CRC-32 in hex, the first of the
// hashes in Synchronet's order that bbsmail keeps.
func (h SpamHash) String() string { return fmt.Sprintf("%08x", h.CRC32) }

// HashBody normalises a message body and hashes it. Ctrl-A codes (0x01 and
// the character after it: BBS colour codes) and every space, TAB, CR and LF
// are removed first, so re-wrapping or re-colouring the same text does not
// make it new. ok is false when nothing is left: an empty body proves
// nothing and is never hashed.
func HashBody(body []byte) (h SpamHash, ok bool) {
	norm := normaliseBody(body)
	if len(norm) == 0 {
		return SpamHash{}, false
	}
	return hashNormalised(norm), true
}

// hashNormalised hashes a body normaliseBody has already cleaned.
func hashNormalised(norm []byte) SpamHash {
	return SpamHash{
		Source: SpamSourceBody,
		Length: uint32(min(len(norm), int(^uint32(0)))),
		CRC32:  crc32.ChecksumIEEE(norm),
		MD5:    md5.Sum(norm),
		SHA1:   sha1.Sum(norm),
	}
}

// MatchSpamBody is HashBody followed by MatchSpamHash, without the hashing
// when no known spam body has the same normalised length: the keys begin
// with source and length, so one cursor seek rules most messages out for
// the price of the normalisation. hash is the body's hash when it was
// computed (always when found).
func (db *DB) MatchSpamBody(body []byte, now time.Time) (rec SpamRecord, hash SpamHash, found bool, err error) {
	if !db.spamAny.Load() { // no spam known yet: nothing to compare with
		return SpamRecord{}, SpamHash{}, false, nil
	}
	n := normalisedLength(body)
	if n == 0 {
		return SpamRecord{}, SpamHash{}, false, nil
	}
	prefix := binary.BigEndian.AppendUint32([]byte{byte(SpamSourceBody)}, uint32(min(n, int(^uint32(0)))))
	var candidate bool
	err = db.bolt.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket([]byte(bucketSpamHash)).Cursor().Seek(prefix)
		candidate = k != nil && bytes.HasPrefix(k, prefix)
		return nil
	})
	if err != nil || !candidate {
		return SpamRecord{}, SpamHash{}, false, err
	}
	hash = hashNormalised(normaliseBody(body))
	rec, found, err = db.MatchSpamHash(hash, now)
	return rec, hash, found, err
}

// normalisedLength is len(normaliseBody(body)), counted without copying:
// most messages are ruled out by their length alone.
func normalisedLength(body []byte) int {
	n := len(body)
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case 0x01:
			n -= min(2, len(body)-i)
			i++
		case ' ', '\t', '\r', '\n':
			n--
		}
	}
	return n
}

// normaliseBody returns body without Ctrl-A codes and white space.
func normaliseBody(body []byte) []byte {
	out := make([]byte, 0, len(body))
	start := 0 // the run of kept bytes not yet copied starts here
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case 0x01:
			out = append(out, body[start:i]...)
			i++ // the code's character goes with it
			start = i + 1
		case ' ', '\t', '\r', '\n':
			out = append(out, body[start:i]...)
			start = i + 1
		}
	}
	if start < len(body) {
		out = append(out, body[start:]...)
	}
	return out
}

// SpamRecord is one entry of the spam hash database.
type SpamRecord struct {
	SpamHash
	Added   time.Time // when the body was first recorded
	Updated time.Time // when it was last recorded again or matched
	Hits    uint32    // how often it was recorded or matched, the first time included
}

// spamValue is the stored part of a record that is not in its key.
type spamValue struct {
	CRC32   uint32
	MD5     string // hex
	Added   time.Time
	Updated time.Time
	Hits    uint32
}

// spamKey is source, length (big-endian) and SHA-1: a match is then one
// Get, and the other hashes are compared from the value.
func spamKey(h SpamHash) []byte {
	k := make([]byte, 0, 1+4+sha1.Size)
	k = append(k, byte(h.Source))
	k = binary.BigEndian.AppendUint32(k, h.Length)
	return append(k, h.SHA1[:]...)
}

func decodeSpam(k, v []byte) (SpamRecord, error) {
	if len(k) != 1+4+sha1.Size {
		return SpamRecord{}, fmt.Errorf("spam hash key %x: bad length", k)
	}
	var sv spamValue
	if err := json.Unmarshal(v, &sv); err != nil {
		return SpamRecord{}, fmt.Errorf("spam hash %x: %w", k, err)
	}
	r := SpamRecord{Added: sv.Added, Updated: sv.Updated, Hits: sv.Hits}
	r.Source = SpamSource(k[0])
	r.Length = binary.BigEndian.Uint32(k[1:5])
	copy(r.SHA1[:], k[5:])
	r.CRC32 = sv.CRC32
	md, err := hex.DecodeString(sv.MD5)
	if err != nil || len(md) != md5.Size {
		return SpamRecord{}, fmt.Errorf("spam hash %x: bad MD5 %q", k, sv.MD5)
	}
	copy(r.MD5[:], md)
	return r, nil
}

func encodeSpam(r SpamRecord) ([]byte, error) {
	v, err := json.Marshal(spamValue{CRC32: r.CRC32, MD5: hex.EncodeToString(r.MD5[:]),
		Added: r.Added, Updated: r.Updated, Hits: r.Hits})
	if err != nil {
		return nil, fmt.Errorf("encode spam hash: %w", err)
	}
	return v, nil
}

// findSpam returns the record matching h in bucket b.
func findSpam(b *bolt.Bucket, h SpamHash) (SpamRecord, bool, error) {
	v := b.Get(spamKey(h))
	if v == nil {
		return SpamRecord{}, false, nil
	}
	r, err := decodeSpam(spamKey(h), v)
	if err != nil {
		return SpamRecord{}, false, err
	}
	return r, r.CRC32 == h.CRC32 && r.MD5 == h.MD5, nil
}

// AddSpamHash records h as spam at now. A body already recorded is
// refreshed instead: Updated becomes now and Hits grows by one, while
// Added keeps the first time. It returns the record as stored.
func (db *DB) AddSpamHash(h SpamHash, now time.Time) (SpamRecord, error) {
	var out SpamRecord
	err := db.write(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSpamHash))
		r, found, err := findSpam(b, h)
		if err != nil {
			return err
		}
		if !found {
			r = SpamRecord{SpamHash: h, Added: now}
		}
		r.Updated = now
		r.Hits++
		v, err := encodeSpam(r)
		if err != nil {
			return err
		}
		out = r
		return b.Put(spamKey(h), v)
	})
	if err != nil {
		return SpamRecord{}, fmt.Errorf("store: add spam hash %s: %w", h, err)
	}
	db.spamMu.Lock()
	db.spamAny.Store(true)
	db.spamMu.Unlock()
	return out, nil
}

// MatchSpamHash looks h up. A match counts as seeing the body again: the
// record is refreshed as by AddSpamHash, and returned as it was before, so
// a caller can say when it was first recorded. A miss writes nothing.
func (db *DB) MatchSpamHash(h SpamHash, now time.Time) (SpamRecord, bool, error) {
	var found bool
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		_, found, err = findSpam(tx.Bucket([]byte(bucketSpamHash)), h)
		return err
	})
	if err != nil {
		return SpamRecord{}, false, fmt.Errorf("store: look up spam hash %s: %w", h, err)
	}
	if !found {
		return SpamRecord{}, false, nil
	}
	var before SpamRecord
	err = db.write(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSpamHash))
		r, ok, err := findSpam(b, h)
		if err != nil {
			return err
		}
		found, before = ok, r
		if !ok { // removed in between (spam hash clear)
			return nil
		}
		r.Updated = now
		r.Hits++
		v, err := encodeSpam(r)
		if err != nil {
			return err
		}
		return b.Put(spamKey(h), v)
	})
	if err != nil {
		return SpamRecord{}, false, fmt.Errorf("store: refresh spam hash %s: %w", h, err)
	}
	return before, found, nil
}

// SpamHashes returns every record, ordered by source, length and SHA-1.
func (db *DB) SpamHashes() ([]SpamRecord, error) {
	var out []SpamRecord
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketSpamHash)).ForEach(func(k, v []byte) error {
			r, err := decodeSpam(k, v)
			if err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: list spam hashes: %w", err)
	}
	return out, nil
}

// DeleteSpamHashes removes the records last updated before the given
// time, or every record when before is the zero time, and returns how many
// went. A record that cannot be read is removed with them.
func (db *DB) DeleteSpamHashes(before time.Time) (int, error) {
	n := 0
	err := db.write(func(tx *bolt.Tx) error {
		n = 0
		b := tx.Bucket([]byte(bucketSpamHash))
		var doomed [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if !before.IsZero() {
				r, err := decodeSpam(k, v)
				if err == nil && !r.Updated.Before(before) {
					return nil
				}
			}
			doomed = append(doomed, append([]byte(nil), k...))
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete spam hashes: %w", err)
	}
	db.noteSpamHashes()
	return n, nil
}

// noteSpamHashes records whether the spam hash bucket holds anything, so
// that MatchSpamBody costs nothing on a system that has never seen spam
// bait. A failed look errs on the side of looking.
// The look and the store happen under spamMu, as AddSpamHash's store
// does, so a clear racing with an addition cannot leave false behind.
func (db *DB) noteSpamHashes() {
	db.spamMu.Lock()
	defer db.spamMu.Unlock()
	found := true
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket([]byte(bucketSpamHash)).Cursor().First()
		found = k != nil
		return nil
	})
	db.spamAny.Store(found)
}
