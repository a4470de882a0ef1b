package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// SchemaVersion is the layout version this code writes into bucket meta.
// A mailbase written by a newer version is refused rather than misread; an
// older one is upgraded by Open. Version 2 added the queue's due index
// (bucket queue.due); version 3 keeps large texts in buckets of their own
// (deliver.go, bigBody), which older code would not find. Upgrading to 3
// changes nothing stored: both kinds of text are read.
const SchemaVersion = 3

// Defaults for Options. The group-commit figures were chosen with
// BenchmarkDeliverParallel (see docs/mailbase.md): a batch of up to 64
// deliveries gathered for at most 1 ms shares one fsync, which more than
// triples throughput at 16+ concurrent sessions, while a lone delivery skips
// the wait altogether (see DB.write).
const (
	DefaultLockTimeout   = time.Second
	DefaultMaxBatchSize  = 64
	DefaultMaxBatchDelay = time.Millisecond
)

// KeySize is the length of the secret key that encrypts the recoverable copy
// of each password.
const KeySize = 32

// Sentinel errors.
var (
	// ErrLocked means another process holds the mailbase open. The command
	// line falls back to asking the running server.
	ErrLocked = errors.New("mailbase is in use by another process")
	// ErrNotFound means the user, message or entry does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means the alias is already taken by another user.
	ErrExists = errors.New("already exists")
	// ErrInvalid means an argument was refused (empty alias, bad key ...).
	ErrInvalid = errors.New("invalid argument")
	// ErrSchema means the mailbase was written by a newer bbsmail.
	ErrSchema = errors.New("unsupported mailbase schema")
	// ErrNoKey means an operation needs the secret key and none was given.
	ErrNoKey = errors.New("no secret key configured")
)

// Options configure Open. The zero value is usable for everything but
// passwords, which need Key.
type Options struct {
	// LockTimeout bounds the wait for the file lock; 0 means
	// DefaultLockTimeout. bbolt would otherwise wait forever.
	LockTimeout time.Duration
	// Key is the 32-byte secret from LoadOrCreateKey. Without it the
	// password operations fail with ErrNoKey; mail operations still work.
	Key []byte
	// MaxBatchSize and MaxBatchDelay tune group commit; 0 means the
	// defaults above.
	MaxBatchSize  int
	MaxBatchDelay time.Duration
	// OnCommit, when set, is called after each committed write with the
	// number of write calls (deliveries, queue updates, ...) that shared
	// its commit and fsync: the group commit's batch size. It runs on
	// the committing goroutine and must be quick.
	OnCommit func(calls int)
}

// DB is an open mailbase. It is safe for concurrent use.
type DB struct {
	bolt *bolt.DB
	key  []byte
	// writers counts write calls in flight; write uses it to skip the
	// batch delay when nobody else could share the commit.
	writers atomic.Int32
	// groups gathers concurrent writes into shared commits (groupcommit.go).
	groups groups
	// spamAny is false only while the spam hash bucket is known to be
	// empty (spamhash.go).
	spamAny atomic.Bool
	spamMu  sync.Mutex
	// checks counts password verifications (PasswordChecks).
	checks atomic.Uint64
	// users caches user lookups (usercache.go).
	users userCache
	// onCommit is Options.OnCommit, told by committed.
	onCommit func(calls int)
	// room keeps free pages for deletions once the file cannot grow
	// (room.go).
	room room
}

// Bucket names. Sub-buckets of mail, subs and telegrams are named by the
// decimal user number or the lower-case sub-board code.
const (
	bucketMeta      = "meta"
	bucketUsers     = "users"
	bucketAliases   = "users.alias"
	bucketRealNames = "users.realname"
	bucketBodies    = "bodies"
	bucketRefs      = "bodies.refs"
	bucketMail      = "mail"
	bucketSubs      = "subs"
	bucketNetmail   = "netmail"
	bucketQueue     = "queue"
	bucketQueueDue  = "queue.due"
	bucketTelegrams = "telegrams"
	// bucketSpamHash (spamhash.go) came after schema 2 without a version
	// change: Open creates it, and older code ignores a bucket it does not
	// know.
	bucketSpamHash = "spamhash"

	metaSchema = "schema"
)

func topBuckets() []string {
	return []string{bucketMeta, bucketUsers, bucketAliases, bucketRealNames, bucketBodies,
		bucketRefs, bucketMail, bucketSubs, bucketNetmail, bucketQueue, bucketQueueDue, bucketTelegrams,
		bucketSpamHash}
}

// Open opens (creating if needed) the mailbase at path. It fails with an
// error satisfying errors.Is(err, ErrLocked) when another process has it
// open for longer than LockTimeout.
func Open(path string, opts Options) (*DB, error) {
	if len(opts.Key) != 0 && len(opts.Key) != KeySize {
		return nil, fmt.Errorf("store: secret key is %d bytes, want %d: %w", len(opts.Key), KeySize, ErrInvalid)
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	// The free-page list is not written with each commit (NoFreelistSync):
	// that saves a page write or more per commit on the delivery path, and
	// bbolt rebuilds the list by scanning the file when it opens it. The
	// map form keeps allocating and freeing pages cheap as the file grows.
	// Neither touches the fsync of the data and meta pages.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        opts.LockTimeout,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("store: open %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	bdb.MaxBatchSize = DefaultMaxBatchSize
	if opts.MaxBatchSize > 0 {
		bdb.MaxBatchSize = opts.MaxBatchSize
	}
	bdb.MaxBatchDelay = DefaultMaxBatchDelay
	if opts.MaxBatchDelay > 0 {
		bdb.MaxBatchDelay = opts.MaxBatchDelay
	}
	db := &DB{bolt: bdb, onCommit: opts.OnCommit}
	if opts.Key != nil {
		db.key = append([]byte(nil), opts.Key...)
	}
	if err := bdb.Update(initSchema); err != nil {
		_ = bdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.noteSpamHashes()
	return db, nil
}

func initSchema(tx *bolt.Tx) error {
	for _, name := range topBuckets() {
		if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket([]byte(bucketMeta))
	// A probe for room (room.go) cut off between its two steps leaves
	// its filler behind.
	if meta.Get([]byte(metaProbe)) != nil {
		if err := meta.Delete([]byte(metaProbe)); err != nil {
			return fmt.Errorf("removing the room probe's filler: %w", err)
		}
	}
	v := meta.Get([]byte(metaSchema))
	if v == nil {
		return meta.Put([]byte(metaSchema), binary.BigEndian.AppendUint32(nil, SchemaVersion))
	}
	if len(v) != 4 {
		return fmt.Errorf("schema version record is %d bytes: %w", len(v), ErrSchema)
	}
	n := binary.BigEndian.Uint32(v)
	switch {
	case n > SchemaVersion:
		return fmt.Errorf("mailbase schema %d is newer than %d: %w", n, SchemaVersion, ErrSchema)
	case n == SchemaVersion:
		return nil
	}
	// Upgrades run in Open's transaction: a crash leaves the old version
	// whole, and the next Open upgrades it again.
	if n < 2 {
		if _, err := rebuildDueIndex(tx, false); err != nil {
			return fmt.Errorf("upgrading schema %d: building the queue index: %w", n, err)
		}
	}
	return meta.Put([]byte(metaSchema), binary.BigEndian.AppendUint32(nil, SchemaVersion))
}

// Close releases the file and its lock.
func (db *DB) Close() error {
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// write runs fn in a read-write transaction that is committed (fsync
// included) before write returns. Concurrent callers share commits
// (groupcommit.go), so fn may run more than once: it must derive everything
// from tx and reset any result it fills in. A caller with no company goes
// straight to Update, because a group would make it wait MaxBatchDelay for
// partners that are not coming. A file that cannot grow gives an error
// that wraps ENOSPC, EDQUOT or EFBIG (storageErr).
func (db *DB) write(fn func(*bolt.Tx) error) error { return db.writeSized(fn, 0) }

// writeSized is write for a function that stores about size octets (a
// message text), which bounds how many of them share a commit.
func (db *DB) writeSized(fn func(*bolt.Tx) error, size int) error {
	n := db.writers.Add(1)
	defer db.writers.Add(-1)
	if n == 1 {
		err := db.bolt.Update(fn)
		if err == nil {
			db.committed(1)
		}
		return storageErr(err)
	}
	return storageErr(db.batch(fn, size))
}

// committed tells Options.OnCommit that a commit carried calls writes.
func (db *DB) committed(calls int) {
	if db.onCommit != nil {
		db.onCommit(calls)
	}
}

// u64 and u32 encode keys big-endian so that cursor order is numeric order.
func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
func u32(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }

func userBucketName(user uint32) []byte { return []byte(strconv.FormatUint(uint64(user), 10)) }
