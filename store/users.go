package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"
)

// Limits on user fields, in bytes.
const (
	MaxAliasLen    = 64
	MaxRealNameLen = 64
	MaxLevel       = 99
	// SysopLevel is the security level from which a user is a sysop:
	// Synchronet's SYSOP_LEVEL, fixed at 90 (ars.SysopLevel, which this
	// package may not import, says the same).
	SysopLevel = 90
)

// User is a BBS user as the mail servers see it. The flag names follow
// Synchronet's user editor.
type User struct {
	Number   uint32 // 1..N, assigned by AddUser, never reused
	Alias    string
	RealName string
	// NetMail is the user's Internet (or FidoNet) address; with Forward
	// set, mail for the user is forwarded there.
	NetMail string
	Level   int    // security level 0..99
	Flags1  string // flag set 1 letters, for access requirements

	Deleted  bool
	Inactive bool
	ExemptW  bool // exempt from MaxMsgsWaiting
	ExemptM  bool // exempt from the sending limits
	Forward  bool // forward mail to NetMail
	// RestrictI closes the mailbox to unauthenticated senders; RestrictM
	// and RestrictG forbid relaying and foreign sender addresses.
	RestrictI bool
	RestrictM bool
	RestrictG bool

	LastLogin   time.Time
	LastLoginIP string
	Online      bool // logged on to the BBS: telegrams are shown at once
	Created     time.Time

	// HasPassword is read-only: set from the stored record.
	HasPassword bool `json:"-"`
}

// userRecord is the stored form: the user plus the password verifier and
// the encrypted secret. Neither holds the password in the clear.
type userRecord struct {
	User
	Password *passwordHash `json:",omitempty"`
	Secret   []byte        `json:",omitempty"`
}

// AliasKey is the form in which aliases are compared: letters and digits
// only, lower-cased, so "digital.man", "Digital_Man" and "DIGITAL MAN" are
// the same user.
func AliasKey(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// RealNameKey is the form in which real names are compared: lower-cased,
// dots read as spaces, runs of white space collapsed.
func RealNameKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(strings.ReplaceAll(s, ".", " ")), " "))
}

// CheckUser says what is wrong with u as a new user, in words for the
// sysop, or nil: the same rules AddUser and ImportUser apply.
func CheckUser(u User) error {
	return checkUser(&u)
}

func checkUser(u *User) error {
	u.Alias = strings.TrimSpace(u.Alias)
	u.RealName = strings.TrimSpace(u.RealName)
	u.NetMail = strings.TrimSpace(u.NetMail)
	key := AliasKey(u.Alias)
	switch {
	case key == "":
		return fmt.Errorf("alias %q has no letters or digits: %w", u.Alias, ErrInvalid)
	case strings.Trim(key, "0123456789") == "":
		return fmt.Errorf("alias %q is a number, which would read as a user number: %w", u.Alias, ErrInvalid)
	case len(u.Alias) > MaxAliasLen || len(u.RealName) > MaxRealNameLen:
		return fmt.Errorf("alias or real name longer than %d bytes: %w", MaxAliasLen, ErrInvalid)
	case strings.ContainsRune(u.Alias, '@'):
		return fmt.Errorf("alias %q contains '@': %w", u.Alias, ErrInvalid)
	case hasControl(u.Alias) || hasControl(u.RealName) || hasControl(u.NetMail) || hasControl(u.Flags1) || hasControl(u.LastLoginIP):
		return fmt.Errorf("user field contains control characters: %w", ErrInvalid)
	case u.Level < 0 || u.Level > MaxLevel:
		return fmt.Errorf("security level %d outside 0..%d: %w", u.Level, MaxLevel, ErrInvalid)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

// AddUser creates a user with the next unused number and returns it. An
// empty password leaves the account without one (it cannot log in).
func (db *DB) AddUser(u User, password string) (uint32, error) {
	n, _, err := db.insertUser(u, password, 0, false)
	return n, err
}

// AddUserOrSysop adds u like AddUser, but at SysopLevel when the user base
// has no sysop yet (no undeleted user at SysopLevel or above), so the first
// account a sysop creates on a new system is theirs to administer. The test
// and the insert are one transaction: two users added at once cannot both
// become sysop. It reports whether u got the sysop's level.
func (db *DB) AddUserOrSysop(u User, password string) (uint32, bool, error) {
	return db.insertUser(u, password, 0, true)
}

// ImportUser adds u under the number u.Number it had on the system it comes
// from (a Synchronet user base), so mail addressed by number and the
// sysop's records keep meaning the same person. The number must be free:
// an existing user of that number gives ErrExists. Later AddUser calls
// continue above the highest number imported.
func (db *DB) ImportUser(u User, password string) error {
	if u.Number == 0 {
		return fmt.Errorf("store: import user %q: number 0: %w", u.Alias, ErrInvalid)
	}
	_, _, err := db.insertUser(u, password, u.Number, false)
	return err
}

// insertUser stores a new user under number, or under the next unused
// number when number is 0; with sysopIfNone it raises the user to
// SysopLevel when no sysop exists, and reports whether it did.
func (db *DB) insertUser(u User, password string, number uint32, sysopIfNone bool) (uint32, bool, error) {
	if err := checkUser(&u); err != nil {
		return 0, false, fmt.Errorf("store: add user: %w", err)
	}
	var hash *passwordHash
	if password != "" {
		if db.key == nil {
			return 0, false, fmt.Errorf("store: add user %q: %w", u.Alias, ErrNoKey)
		}
		var err error
		// Hashing takes tens of milliseconds: do it outside the write lock.
		if hash, err = newPasswordHash(context.Background(), password); err != nil {
			return 0, false, fmt.Errorf("store: add user %q: %w", u.Alias, err)
		}
	}
	if u.Created.IsZero() {
		u.Created = time.Now()
	}
	promoted := false
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		users := tx.Bucket([]byte(bucketUsers))
		if sysopIfNone && u.Level < SysopLevel {
			has, err := hasSysop(users)
			if err != nil {
				return err
			}
			promoted = !has
		}
		seq, err := userNumber(users, number)
		if err != nil {
			return err
		}
		rec := userRecord{User: u, Password: hash}
		if promoted {
			rec.Level = SysopLevel
		}
		rec.Number = seq
		if hash != nil {
			if rec.Secret, err = sealSecret(db.key, rec.Number, password); err != nil {
				return err
			}
		}
		if err := indexUser(tx, nil, &rec.User); err != nil {
			return err
		}
		u.Number = rec.Number
		return db.putUser(tx, &rec)
	})
	if err != nil {
		return 0, false, fmt.Errorf("store: add user %q: %w", u.Alias, err)
	}
	return u.Number, promoted, nil
}

// hasSysop reports whether an undeleted user has SysopLevel or above. A
// deleted sysop administers nothing, so it does not count.
func hasSysop(users *bolt.Bucket) (bool, error) {
	c := users.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var rec userRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return false, fmt.Errorf("user %x: %w", k, err)
		}
		if !rec.Deleted && rec.Level >= SysopLevel {
			return true, nil
		}
	}
	return false, nil
}

// userNumber hands out the number of a new user: the next in the bucket's
// sequence, or want when it is free. The sequence only grows (an imported
// number raises it), so a deleted user's number is never handed out again.
func userNumber(users *bolt.Bucket, want uint32) (uint32, error) {
	if want == 0 {
		seq, err := users.NextSequence()
		if err != nil {
			return 0, err
		}
		if seq > uint64(^uint32(0)) {
			return 0, fmt.Errorf("user numbers exhausted: %w", ErrInvalid)
		}
		return uint32(seq), nil
	}
	if users.Get(u32(want)) != nil {
		return 0, fmt.Errorf("user #%d: %w", want, ErrExists)
	}
	if uint64(want) > users.Sequence() {
		if err := users.SetSequence(uint64(want)); err != nil {
			return 0, err
		}
	}
	return want, nil
}

// indexUser moves the alias and real-name index entries from old to new.
// Deleted users are not indexed, which frees their alias for a new user
// while their record (and number) stays.
func indexUser(tx *bolt.Tx, old, new *User) error {
	aliases := tx.Bucket([]byte(bucketAliases))
	names := tx.Bucket([]byte(bucketRealNames))
	if old != nil && !old.Deleted {
		if err := aliases.Delete([]byte(AliasKey(old.Alias))); err != nil {
			return err
		}
		if err := names.Delete(realNameIndex(old.RealName, old.Number)); err != nil {
			return err
		}
	}
	if new.Deleted {
		return nil
	}
	akey := []byte(AliasKey(new.Alias))
	if v := aliases.Get(akey); v != nil && !bytes.Equal(v, u32(new.Number)) {
		return fmt.Errorf("alias %q: %w", new.Alias, ErrExists)
	}
	if err := aliases.Put(akey, u32(new.Number)); err != nil {
		return err
	}
	if new.RealName == "" {
		return nil
	}
	return names.Put(realNameIndex(new.RealName, new.Number), nil)
}

// realNameIndex keys the real-name index by name and number: real names
// need not be unique.
func realNameIndex(name string, num uint32) []byte {
	return append([]byte(RealNameKey(name)+"\x00"), u32(num)...)
}

// putUser is the one place a user record is written; it also empties the
// lookup cache (usercache.go) when the transaction commits.
func (db *DB) putUser(tx *bolt.Tx, rec *userRecord) error {
	db.users.forgetOnCommit(tx)
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return tx.Bucket([]byte(bucketUsers)).Put(u32(rec.Number), v)
}

func getUser(tx *bolt.Tx, num uint32) (*userRecord, error) {
	v := tx.Bucket([]byte(bucketUsers)).Get(u32(num))
	if v == nil {
		return nil, fmt.Errorf("user %d: %w", num, ErrNotFound)
	}
	var rec userRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("user %d: %w", num, err)
	}
	rec.HasPassword = rec.Password != nil
	return &rec, nil
}

// User returns user number num, deleted or not.
func (db *DB) User(num uint32) (User, error) {
	if u, ok := db.users.number(num); ok {
		return u, nil
	}
	gen := db.users.generation()
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec, err := getUser(tx, num)
		if err == nil {
			u = rec.User
		}
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: %w", err)
	}
	db.users.keep(gen, u, "")
	return u, nil
}

// UserByAlias finds the undeleted user whose alias equals name when both
// are reduced to lower-case letters and digits (AliasKey).
func (db *DB) UserByAlias(name string) (User, error) {
	key := AliasKey(name)
	if u, ok := db.users.alias(key); ok {
		return u, nil
	}
	gen := db.users.generation()
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketAliases)).Get([]byte(key))
		if key == "" || len(v) != 4 {
			return fmt.Errorf("alias %q: %w", name, ErrNotFound)
		}
		rec, err := getUser(tx, binary.BigEndian.Uint32(v))
		if err == nil {
			u = rec.User
		}
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: %w", err)
	}
	db.users.keep(gen, u, key)
	return u, nil
}

// UserByRealName finds the undeleted user with the lowest number whose
// real name equals name, ignoring case and reading '.' as ' '.
func (db *DB) UserByRealName(name string) (User, error) {
	var u User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		key := RealNameKey(name)
		prefix := []byte(key + "\x00")
		k, _ := tx.Bucket([]byte(bucketRealNames)).Cursor().Seek(prefix)
		if key == "" || !bytes.HasPrefix(k, prefix) || len(k) != len(prefix)+4 {
			return fmt.Errorf("real name %q: %w", name, ErrNotFound)
		}
		n := k[len(prefix):]
		rec, err := getUser(tx, binary.BigEndian.Uint32(n))
		if err == nil {
			u = rec.User
		}
		return err
	})
	if err != nil {
		return User{}, fmt.Errorf("store: %w", err)
	}
	return u, nil
}

// Users returns every user, deleted ones included, by number.
func (db *DB) Users() ([]User, error) {
	var out []User
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketUsers)).ForEach(func(k, v []byte) error {
			var rec userRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("user %x: %w", k, err)
			}
			rec.HasPassword = rec.Password != nil
			out = append(out, rec.User)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// UpdateUser changes user num through fn, which gets a copy to edit. The
// number cannot change; an alias already used by another undeleted user
// gives ErrExists. Setting Deleted frees the alias; clearing it takes the
// alias back if it is still free.
func (db *DB) UpdateUser(num uint32, fn func(*User) error) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := getUser(tx, num)
		if err != nil {
			return err
		}
		old := rec.User
		if err := fn(&rec.User); err != nil {
			return err
		}
		if rec.Number != num {
			return fmt.Errorf("user number cannot change: %w", ErrInvalid)
		}
		if err := checkUser(&rec.User); err != nil {
			return err
		}
		if err := indexUser(tx, &old, &rec.User); err != nil {
			return err
		}
		return db.putUser(tx, rec)
	})
	if err != nil {
		return fmt.Errorf("store: update user %d: %w", num, err)
	}
	return nil
}

// DeleteUser marks user num deleted. The record and the number stay, as
// in Synchronet, so old mail still names its owner; the alias becomes free.
func (db *DB) DeleteUser(num uint32) error {
	return db.UpdateUser(num, func(u *User) error {
		u.Deleted = true
		return nil
	})
}

// SetPassword replaces the password of user num. An empty password removes
// it, so the account can no longer log in.
func (db *DB) SetPassword(num uint32, password string) error {
	var hash *passwordHash
	if password != "" {
		if db.key == nil {
			return fmt.Errorf("store: set password of user %d: %w", num, ErrNoKey)
		}
		var err error
		if hash, err = newPasswordHash(context.Background(), password); err != nil {
			return fmt.Errorf("store: set password of user %d: %w", num, err)
		}
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		rec, err := getUser(tx, num)
		if err != nil {
			return err
		}
		rec.Password, rec.Secret = hash, nil
		if hash != nil {
			if rec.Secret, err = sealSecret(db.key, num, password); err != nil {
				return err
			}
		}
		return db.putUser(tx, rec)
	})
	if err != nil {
		return fmt.Errorf("store: set password of user %d: %w", num, err)
	}
	return nil
}

// CheckPassword reports whether password is user num's password. Case is
// ignored, as in Synchronet. A user without a password never matches, after
// a verification all the same. The caller decides what deleted or inactive
// accounts may do. The check waits for a hashing slot while ctx allows (at
// most MaxHashWait); it then fails with ErrBusy.
func (db *DB) CheckPassword(ctx context.Context, num uint32, password string) (bool, error) {
	var hash *passwordHash
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec, err := getUser(tx, num)
		if err == nil {
			hash = rec.Password
		}
		return err
	})
	if err != nil || hash == nil {
		if derr := db.DummyCheck(ctx, password); derr != nil {
			return false, derr
		}
		if err != nil {
			return false, fmt.Errorf("store: check password: %w", err)
		}
		return false, nil
	}
	db.checks.Add(1)
	ok, err := hash.verify(ctx, password)
	if err != nil {
		return false, fmt.Errorf("store: check password of user %d: %w", num, err)
	}
	return ok, nil
}

// DummyCheck spends what a password verification spends, time and memory,
// and matches nothing. A login that fails before there is a verifier to
// check (an unknown user, a deleted account) calls it, so that it is not
// answered measurably sooner than a wrong password for a real user.
func (db *DB) DummyCheck(ctx context.Context, password string) error {
	db.checks.Add(1)
	if err := dummyVerify(ctx, password); err != nil {
		return fmt.Errorf("store: check password: %w", err)
	}
	return nil
}

// PasswordChecks counts the password verifications (CheckPassword and
// DummyCheck alike) this DB has begun: what a monitor, or a test that every
// failed login costs the same, reads.
func (db *DB) PasswordChecks() uint64 { return db.checks.Load() }

// Secret returns user num's password as it was set, for the
// challenge-response logins (APOP, CRAM-MD5) that need the secret itself.
// A user without a password gives ErrNotFound.
func (db *DB) Secret(num uint32) (string, error) {
	var sealed []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		rec, err := getUser(tx, num)
		if err != nil {
			return err
		}
		if rec.Secret == nil {
			return fmt.Errorf("user %d has no password: %w", num, ErrNotFound)
		}
		sealed = rec.Secret
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store: secret: %w", err)
	}
	pw, err := openSecret(db.key, num, sealed)
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return pw, nil
}
