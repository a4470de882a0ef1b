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

// appendFill is the page fill used for buckets whose keys only grow:
// bbolt's default of one half would leave every page half empty.
const appendFill = 0.9

// Copy says where one recipient's copy went.
type Copy struct {
	Kind envelope.Kind
	User uint32 // KindMailbox
	Sub  string // KindSub, lower-case
	// ID is the message id in the mailbox, the post number, the netmail id
	// or the queue id; 0 for KindDrop and KindProcessor.
	ID uint64
}

// Receipt tells what Deliver stored.
type Receipt struct {
	Body     uint64 // id of the shared text; 0 when nothing was stored
	Mailbox  int
	Sub      int
	Netmail  int // FidoNet and QWK
	Remote   int // queued for SMTP delivery: wake the sender
	Dropped  int
	QueueIDs []uint64
	Copies   []Copy // one per recipient, in envelope order
}

// Deliver stores one accepted message for all of env.Rcpts in one
// transaction and returns once it is on disk. msg is the message as
// received (header and body, CRLF); it is stored once, and each copy keeps
// its own Rcpt.Trace to put in front of it. An error means nothing was
// stored.
func (db *DB) Deliver(env *envelope.Envelope, msg []byte) (Receipt, error) {
	if env == nil || len(env.Rcpts) == 0 {
		return Receipt{}, fmt.Errorf("store: deliver: no recipients: %w", ErrInvalid)
	}
	return db.deliver(env, msg, func(tx *bolt.Tx, d *delivery, r *Receipt) error { return d.store(tx, r) })
}

// deliver runs store in the one write of a delivery: admitted against the
// room a full disk leaves (room.go), sized for the group commit, its
// outcome noted. store gets a fresh Receipt each time it runs (a group
// commit may run it more than once).
func (db *DB) deliver(env *envelope.Envelope, msg []byte, store func(*bolt.Tx, *delivery, *Receipt) error) (Receipt, error) {
	d := delivery{env: env, msg: msg, sum: summarize(msg), now: env.Received}
	if d.now.IsZero() {
		d.now = time.Now()
	}
	if env.Auth != nil {
		d.sender = env.Auth.User
	}
	if err := db.admit(len(msg)); err != nil {
		return Receipt{}, fmt.Errorf("store: deliver %s: %w", env.ID, err)
	}
	var r Receipt
	err := db.writeSized(func(tx *bolt.Tx) error {
		r = Receipt{Copies: make([]Copy, 0, len(env.Rcpts))}
		return store(tx, &d, &r)
	}, len(msg))
	db.noteRoom(err)
	if err != nil {
		return Receipt{}, fmt.Errorf("store: deliver %s: %w", env.ID, err)
	}
	return r, nil
}

// delivery holds what every copy of one message shares.
type delivery struct {
	env    *envelope.Envelope
	msg    []byte
	sum    summary
	now    time.Time
	sender uint32
}

func (d *delivery) store(tx *bolt.Tx, r *Receipt) error {
	refs := 0
	for _, rc := range d.env.Rcpts {
		if !discarded(rc.Kind) {
			refs++
		}
	}
	if refs > 0 {
		id, err := putBody(tx, d.msg, uint32(refs))
		if err != nil {
			return err
		}
		r.Body = id
	}
	for i := range d.env.Rcpts {
		rc := &d.env.Rcpts[i]
		c := Copy{Kind: rc.Kind}
		var err error
		switch rc.Kind {
		case envelope.KindMailbox:
			c.User = rc.User
			c.ID, err = d.toMailbox(tx, rc, r.Body)
			r.Mailbox++
		case envelope.KindSub:
			c.Sub = strings.ToLower(strings.TrimSpace(rc.Sub))
			c.ID, err = d.toSub(tx, rc, c.Sub, r.Body)
			r.Sub++
		case envelope.KindFido, envelope.KindQWK:
			c.ID, err = d.toNetmail(tx, rc, r.Body)
			r.Netmail++
		case envelope.KindRemote:
			c.ID, err = d.toQueue(tx, rc, r.Body)
			r.Remote++
			r.QueueIDs = append(r.QueueIDs, c.ID)
		case envelope.KindDrop, envelope.KindProcessor:
			// A processor recipient that is still here was taken by no
			// processor: like spam bait it counts, and nothing is written.
			r.Dropped++
		default:
			err = fmt.Errorf("recipient %q of kind %v: %w", rc.To, rc.Kind, ErrInvalid)
		}
		if err != nil {
			return err
		}
		r.Copies = append(r.Copies, c)
	}
	return nil
}

// discarded reports whether copies of kind k are accepted and written
// nowhere.
func discarded(k envelope.Kind) bool {
	return k == envelope.KindDrop || k == envelope.KindProcessor
}

func (d *delivery) size(rc *envelope.Rcpt) int64 { return int64(len(rc.Trace) + len(d.msg)) }

func (d *delivery) toMailbox(tx *bolt.Tx, rc *envelope.Rcpt, body uint64) (uint64, error) {
	if tx.Bucket([]byte(bucketUsers)).Get(u32(rc.User)) == nil {
		return 0, fmt.Errorf("mailbox of user %d: %w", rc.User, ErrNotFound)
	}
	rec := msgRecord{Body: body, Trace: rc.Trace, MsgInfo: MsgInfo{
		Size: d.size(rc), From: d.sum.From, Subject: d.sum.Subject, Date: d.sum.Date,
		MessageID: d.sum.MessageID, Received: d.now, ReversePath: d.env.ReversePath,
		SenderUser: d.sender, ClientIP: d.env.ClientIP,
	}}
	if d.env.Spam {
		rec.Flags |= FlagSpam
	}
	if d.env.KillRead {
		rec.Flags |= FlagKillRead
	}
	b, err := tx.Bucket([]byte(bucketMail)).CreateBucketIfNotExists(userBucketName(rc.User))
	if err != nil {
		return 0, err
	}
	return appendRecord(b, &rec)
}

func (d *delivery) toSub(tx *bolt.Tx, rc *envelope.Rcpt, code string, body uint64) (uint64, error) {
	if code == "" {
		return 0, fmt.Errorf("post without a sub-board code: %w", ErrInvalid)
	}
	b, err := tx.Bucket([]byte(bucketSubs)).CreateBucketIfNotExists([]byte(code))
	if err != nil {
		return 0, err
	}
	// Synchronet addresses a mailed post to PostTo, else the name in the
	// To header, else "All".
	to := rc.To
	if to == "" {
		to = d.sum.ToName
	}
	if to == "" {
		to = "All"
	}
	rec := postRecord{Body: body, Trace: rc.Trace, Post: Post{
		To: to, From: d.sum.From, Subject: d.sum.Subject, Date: d.sum.Date,
		MessageID: d.sum.MessageID, Received: d.now, ReversePath: d.env.ReversePath,
		SenderUser: d.sender, Size: d.size(rc),
	}}
	return appendRecord(b, &rec)
}

func (d *delivery) toNetmail(tx *bolt.Tx, rc *envelope.Rcpt, body uint64) (uint64, error) {
	nt := envelope.NetFido
	if rc.Kind == envelope.KindQWK {
		nt = envelope.NetQWK
	}
	rec := netmailRecord{Body: body, Trace: rc.Trace, NetmailEntry: NetmailEntry{
		NetType: nt, NetAddr: rc.NetAddr, To: rc.To, From: d.sum.From, Subject: d.sum.Subject,
		Received: d.now, ReversePath: d.env.ReversePath, SenderUser: d.sender, Size: d.size(rc),
	}}
	return appendRecord(tx.Bucket([]byte(bucketNetmail)), &rec)
}

func (d *delivery) toQueue(tx *bolt.Tx, rc *envelope.Rcpt, body uint64) (uint64, error) {
	if rc.NetAddr == "" {
		return 0, fmt.Errorf("remote recipient %q without an address: %w", rc.To, ErrInvalid)
	}
	rec := queueRecord{Body: body, Trace: rc.Trace, QueueEntry: QueueEntry{
		ReversePath: d.env.ReversePath, Rcpt: rc.NetAddr, Created: d.now, NextAttempt: d.now,
		LocalSender: d.sender, Subject: d.sum.Subject, Size: d.size(rc),
	}}
	id, err := appendRecord(tx.Bucket([]byte(bucketQueue)), &rec)
	if err != nil {
		return 0, err
	}
	return id, reindex(tx, nil, &rec)
}

// record is a stored entry that learns its key when appended.
type record interface{ setID(uint64) }

// appendRecord stores rec under the bucket's next sequence number, which
// is never handed out twice: POP3 UIDLs and queue ids stay unique even
// after the newest entry is deleted.
func appendRecord(b *bolt.Bucket, rec record) (uint64, error) {
	id, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	rec.setID(id)
	v, err := json.Marshal(rec)
	if err != nil {
		return 0, err
	}
	b.FillPercent = appendFill
	return id, b.Put(u64(id), v)
}

// bigBody is the size from which a text gets a bucket of its own. bbolt
// rewrites a whole leaf when one key is added to it, and a leaf holds up
// to four entries however large they are: stored side by side, every new
// text would rewrite (and read back, and copy through memory) the few
// before it. A text in its own bucket sits alone in its leaf, and the new
// one touches only the small bucket headers.
const bigBody = 32 << 10

// bodyText is the key of the text inside a big body's bucket.
var bodyText = []byte("text")

// putBody stores a message text with its reference count.
func putBody(tx *bolt.Tx, msg []byte, refs uint32) (uint64, error) {
	bodies := tx.Bucket([]byte(bucketBodies))
	id, err := bodies.NextSequence()
	if err != nil {
		return 0, err
	}
	bodies.FillPercent = appendFill
	if len(msg) >= bigBody {
		b, err := bodies.CreateBucket(u64(id))
		if err == nil {
			err = b.Put(bodyText, msg)
		}
		if err != nil {
			return 0, err
		}
	} else if err := bodies.Put(u64(id), msg); err != nil {
		return 0, err
	}
	return id, tx.Bucket([]byte(bucketRefs)).Put(u64(id), u32(refs))
}

// getBody returns the stored text of body k (a plain value, or the value
// inside the body's own bucket), nil when there is none.
func getBody(bodies *bolt.Bucket, k []byte) []byte {
	if v := bodies.Get(k); v != nil {
		return v
	}
	if b := bodies.Bucket(k); b != nil {
		return b.Get(bodyText)
	}
	return nil
}

// unrefBody drops one reference to a text and deletes the text with the
// last one. The count lives apart from the text so that dropping a
// reference does not rewrite a large value.
func unrefBody(tx *bolt.Tx, id uint64) error {
	refs := tx.Bucket([]byte(bucketRefs))
	v := refs.Get(u64(id))
	if len(v) != 4 {
		return fmt.Errorf("body %d has no reference count: %w", id, ErrNotFound)
	}
	if n := binary.BigEndian.Uint32(v); n > 1 {
		return refs.Put(u64(id), u32(n-1))
	}
	if err := refs.Delete(u64(id)); err != nil {
		return err
	}
	bodies := tx.Bucket([]byte(bucketBodies))
	if bodies.Bucket(u64(id)) != nil {
		return bodies.DeleteBucket(u64(id))
	}
	return bodies.Delete(u64(id))
}

// readBody returns trace followed by the text of body id, copied out of
// the transaction so the caller may use it after the transaction ends.
func readBody(tx *bolt.Tx, id uint64, trace []byte) ([]byte, error) {
	text := getBody(tx.Bucket([]byte(bucketBodies)), u64(id))
	if text == nil {
		return nil, fmt.Errorf("body %d: %w", id, ErrNotFound)
	}
	out := make([]byte, 0, len(trace)+len(text))
	return append(append(out, trace...), text...), nil
}
