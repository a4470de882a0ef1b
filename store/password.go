package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"strings"

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

func newPasswordHash(pw string) (*passwordHash, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return nil, fmt.Errorf("password salt: %w", err)
	}
	return &passwordHash{
		Alg: "argon2id", Version: argon2.Version,
		Time: argonTime, Memory: argonMemory, Threads: argonThreads,
		Salt: salt,
		Hash: argon2.IDKey(foldPassword(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen),
	}, nil
}

// verify reports whether pw matches, comparing in constant time.
func (h *passwordHash) verify(pw string) (bool, error) {
	if h.Alg != "argon2id" || h.Version != argon2.Version || len(h.Hash) == 0 {
		return false, fmt.Errorf("password hash %s v%d: %w", h.Alg, h.Version, ErrInvalid)
	}
	got := argon2.IDKey(foldPassword(pw), h.Salt, h.Time, h.Memory, h.Threads, uint32(len(h.Hash)))
	return subtle.ConstantTimeCompare(got, h.Hash) == 1, nil
}

// dummyVerify spends the time of a real verification, so that a login
// for a user who does not exist is not answered measurably faster.
func dummyVerify(pw string) {
	argon2.IDKey(foldPassword(pw), make([]byte, argonSaltLen), argonTime, argonMemory, argonThreads, argonKeyLen)
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
