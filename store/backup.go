package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Backup writes a consistent copy of the whole mailbase to w from one
// read transaction, so deliveries go on while it runs (bbolt's
// Tx.WriteTo). size, when not nil, is called first with the copy's exact
// length, for a caller that frames the stream.
func (db *DB) Backup(w io.Writer, size func(int64) error) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		if size != nil {
			if err := size(tx.Size()); err != nil {
				return err
			}
		}
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

// PurgeStats counts what Purge removed.
type PurgeStats struct {
	Deleted  int // copies flagged deleted
	KillRead int // read copies flagged kill-read, or every read copy with AllRead
}

// Purge removes, in one transaction, the mailbox copies flagged deleted
// and the read ones flagged kill-read (every read one when allRead is
// set: main.ini's "Kill Read E-mail"), freeing texts nobody else holds.
func (db *DB) Purge(allRead bool) (PurgeStats, error) {
	var st PurgeStats
	err := db.write(func(tx *bolt.Tx) error {
		st = PurgeStats{}
		parent := tx.Bucket([]byte(bucketMail))
		var users [][]byte
		_ = parent.ForEachBucket(func(k []byte) error { users = append(users, append([]byte(nil), k...)); return nil })
		for _, u := range users {
			if err := purgeMailbox(tx, parent.Bucket(u), allRead, &st); err != nil {
				return fmt.Errorf("mailbox %s: %w", u, err)
			}
		}
		return nil
	})
	if err != nil {
		return PurgeStats{}, fmt.Errorf("store: purge: %w", err)
	}
	return st, nil
}

func purgeMailbox(tx *bolt.Tx, b *bolt.Bucket, allRead bool, st *PurgeStats) error {
	type victim struct {
		key  []byte
		body uint64
	}
	var gone []victim
	err := b.ForEach(func(k, v []byte) error {
		var m msgRecord
		if err := json.Unmarshal(v, &m); err != nil {
			return fmt.Errorf("record %x: %w", k, err)
		}
		read := m.Flags&FlagRead != 0
		switch {
		case m.Flags&FlagDeleted != 0:
			st.Deleted++
		case read && (allRead || m.Flags&FlagKillRead != 0):
			st.KillRead++
		default:
			return nil
		}
		gone = append(gone, victim{append([]byte(nil), k...), m.Body})
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range gone {
		if err := b.Delete(g.key); err != nil {
			return err
		}
		if err := unrefBody(tx, g.body); err != nil {
			return err
		}
	}
	return nil
}

// Compact rewrites the mailbase at path into a fresh file without the
// free pages bbolt keeps after deletions, and puts it in place of the old
// one. It needs the file to itself: with a server running it fails with
// ErrLocked. The old file stays locked until the new one is in place, so
// a server starting meanwhile waits and then opens the new one.
func Compact(path string, lockWait time.Duration) (before, after int64, err error) {
	src, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait})
	if errors.Is(err, berrors.ErrTimeout) {
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, ErrLocked)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	defer src.Close()
	tmp := path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	if err := bolt.Compact(dst, src, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact %s: %w", path, err)
	}
	if err := dst.Close(); err != nil { // bbolt synced every commit
		os.Remove(tmp)
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	before, after = fileSize(path), fileSize(tmp)
	if err := ReplaceFile(tmp, path); err != nil {
		return 0, 0, fmt.Errorf("store: compact: %w", err)
	}
	return before, after, nil
}

// ReplaceFile renames from over to and syncs the directory, so after a
// crash the name holds either the old file or the new one, whole.
func ReplaceFile(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(to))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
