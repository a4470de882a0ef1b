package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bbsmail/bbsmail/store"
)

func TestKeyFileCreatedPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.key")
	key, err := store.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != store.KeySize {
		t.Fatalf("key of %d bytes", len(key))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %#o, want 0600", st.Mode().Perm())
	}
	again, err := store.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second load gave a different key (%v)", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Fatalf("left %d files in the directory, want only the key", len(ents))
	}
}

func TestKeyFileRefusedWhenReadable(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		path := filepath.Join(t.TempDir(), "secret.key")
		if err := os.WriteFile(path, bytes.Repeat([]byte{7}, store.KeySize), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := store.LoadOrCreateKey(path)
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("mode %#o: error %v, want a refusal naming %s", mode, err, path)
		}
	}
}

func TestKeyFileWrongLength(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secret.key")
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadOrCreateKey(path); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("short key: %v, want ErrInvalid", err)
	}
}

func TestOpenLockedAndSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mail.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// bbolt's lock is per open file, so a second open in this process
	// stands in for a second process.
	_, err = store.Open(path, store.Options{LockTimeout: 50e6})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	if _, err := store.Open(path, store.Options{Key: []byte("short")}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("short key accepted: %v", err)
	}
}
