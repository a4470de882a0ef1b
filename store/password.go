package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for new password hashes. Time 2 and 19 MiB are the
// OWASP minimum for argon2id; on a 2-core x86-64 server a hash takes about
// 35 ms, which keeps a login well under 50 ms while making each guess cost
// an attacker real memory. The parameters are stored with every hash, so
// raising them later only affects passwords set afterwards.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// passwordHash is the stored form of a verifier. Only argon2id exists today;
// Alg lets a later version add another without guessing.
type passwordHash struct {
	Alg     string `json:"alg"`
	Version int    `json:"v"`
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"`
	Threads uint8  `json:"p"`
	Salt    []byte `json:"salt"`
	Hash    []byte `json:"hash"`
}

// foldPassword gives the form that is hashed. Synchronet compares
// passwords ignoring case (its users type them on terminals of every kind),
// so the verifier is made from the lower-cased password.
func foldPassword(pw string) []byte { return []byte(strings.ToLower(pw)) }

// MaxHashWait bounds how long a password check waits for a free hashing
// slot when the caller's context allows longer. A check that waits longer
// fails with ErrBusy, which the servers answer as a temporary failure.
const MaxHashWait = 30 * time.Second

// ErrBusy means every hashing slot stayed taken for MaxHashWait (or until
// the caller's context ended): the login should be retried later.
var ErrBusy = errors.New("password checks are all busy")

// hashSlots bounds the argon2 computations running at once in the process.
// Each one holds argonMemory (19 MiB) for its whole run, so without a
// bound a burst of logins turns straight into memory: 100 at once took a
// server from 34 MiB to 1.8 GiB. With one slot per processor the checks
// take as long as they would anyway (they are CPU-bound) and the arenas
// alive at any moment are at most GOMAXPROCS × 19 MiB. The slots are
// shared by every DB of the process, since memory is the process's.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// hashUsers counts the computations running or waiting for a slot; the
// last one to finish asks for the arenas' memory to go back to the system.
var hashUsers atomic.Int32

// hashStarts counts the checks ever begun: a pending release sees from it
// whether any came while it waited.
var hashStarts atomic.Uint64

// freeing is set while a memory release is pending, so that they do not
// pile up.
var freeing atomic.Bool

// releaseDelay is how long the checks must have been quiet before their
// memory goes back to the system. Handing it back after every check cost
// each following one a forced collection and 19 MiB of fresh page faults;
// logins that come one after another (POP3 clients collecting mail) now
// reuse the arena the collector already has.
const releaseDelay = time.Second

// hashGate runs fn in a hashing slot, waiting for one until ctx ends or
// MaxHashWait passes.
func hashGate(ctx context.Context, fn func()) error {
	hashStarts.Add(1)
	hashUsers.Add(1)
	defer func() {
		if hashUsers.Add(-1) == 0 {
			releaseMemory()
		}
	}()
	t := time.NewTimer(MaxHashWait)
	defer t.Stop()
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	case <-t.C:
		return fmt.Errorf("%w for %s", ErrBusy, MaxHashWait)
	}
	defer func() { <-hashSlots }()
	fn()
	return nil
}

// releaseMemory returns the freed argon2 arenas to the operating system
// once no check has run or waited for releaseDelay. The Go runtime would
// otherwise keep the pages of a burst for minutes (its scavenger works
// slowly), and a mail server's resident size should fall back after an
// attack. It runs in the background: the check that ended does not wait.
func releaseMemory() {
	if !freeing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		for {
			seen := hashStarts.Load()
			time.Sleep(releaseDelay)
			if hashUsers.Load() != 0 || hashStarts.Load() != seen {
				continue // not quiet yet
			}
			debug.FreeOSMemory()
			freeing.Store(false)
			// A check that began after the last look and has ended since
			// found freeing set and left its release to this one.
			if hashStarts.Load() != seen && hashUsers.Load() == 0 && freeing.CompareAndSwap(false, true) {
				continue
			}
			return
		}
	}()
}

func newPasswordHash(ctx context.Context, pw string) (*passwordHash, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("password salt: %w", err)
	}
	h := &passwordHash{
		Alg: "argon2id", Version: argon2.Version,
		Time: argonTime, Memory: argonMemory, Threads: argonThreads,
		Salt: salt,
	}
	err := hashGate(ctx, func() {
		h.Hash = argon2.IDKey(foldPassword(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// verify reports whether pw matches, comparing in constant time.
func (h *passwordHash) verify(ctx context.Context, pw string) (bool, error) {
	if h.Alg != "argon2id" || h.Version != argon2.Version || len(h.Hash) == 0 {
		return false, fmt.Errorf("password hash %s v%d: %w", h.Alg, h.Version, ErrInvalid)
	}
	var got []byte
	err := hashGate(ctx, func() {
		got = argon2.IDKey(foldPassword(pw), h.Salt, h.Time, h.Memory, h.Threads, uint32(len(h.Hash)))
	})
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, h.Hash) == 1, nil
}

// dummyVerify spends the time (and the memory) of a real verification, so
// that a login for a user who does not exist is not answered measurably
// faster.
func dummyVerify(ctx context.Context, pw string) error {
	return hashGate(ctx, func() {
		argon2.IDKey(foldPassword(pw), make([]byte, argonSaltLen), argonTime, argonMemory, argonThreads, argonKeyLen)
	})
}

// sealSecret encrypts the password with AES-256-GCM under key. The user
// number is the additional data, so a ciphertext copied onto another user's
// record does not decrypt.
func sealSecret(key []byte, user uint32, pw string) ([]byte, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(pw)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret nonce: %w", err)
	}
	return aead.Seal(nonce, nonce, []byte(pw), u32(user)), nil
}

func openSecret(key []byte, user uint32, sealed []byte) (string, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", fmt.Errorf("secret of user %d is truncated: %w", user, ErrInvalid)
	}
	nonce, box := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	pw, err := aead.Open(nil, nonce, box, u32(user))
	if err != nil {
		return "", fmt.Errorf("secret of user %d does not decrypt (wrong ctrl/secret.key?): %w", user, err)
	}
	return string(pw), nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) == 0 {
		return nil, ErrNoKey
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return aead, nil
}
