package store

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// LoadOrCreateKey returns the secret key kept in the file at path
// (ctrl/secret.key), creating it with KeySize random bytes and mode 0600 when
// it does not exist. A key file that group or others may read is refused:
// with it and a copy of the mailbase anyone could decrypt every password.
//
// The new file is written under a temporary name and linked into place, so
// a crash never leaves a short key behind and two processes starting at once
// end up with the same key.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := loadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := createKey(path); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	return loadKey(path)
}

func loadKey(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("store: secret key: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("store: secret key: %w", err)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("store: secret key %s has mode %#o; it must not be readable by group or others (chmod 600 %s): %w",
			path, perm, path, ErrInvalid)
	}
	key, err := io.ReadAll(io.LimitReader(f, KeySize+1))
	if err != nil {
		return nil, fmt.Errorf("store: secret key %s: %w", path, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("store: secret key %s: want %d bytes: %w", path, KeySize, ErrInvalid)
	}
	return key, nil
}

func createKey(path string) error {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("store: secret key: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".secret.key.*")
	if err != nil {
		return fmt.Errorf("store: secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp opens with O_EXCL and mode 0600.
	_, err = tmp.Write(key)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: secret key %s: %w", path, err)
	}
	// Link fails with EEXIST when another process won the race.
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("store: secret key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
