package store

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// MsgFlags are the per-copy flags of a mailbox message.
type MsgFlags uint8

const (
	// FlagSpam: the message was tagged as spam when it was received.
	FlagSpam MsgFlags = 1 << iota
	// FlagRead: the owner has retrieved the message.
	FlagRead
	// FlagKillRead: delete the message once it has been read.
	FlagKillRead
	// FlagDeleted: the message is hidden from listings. DeleteMessages
	// removes messages outright; the flag exists for mailbases written by
	// tools that mark first and purge later.
	FlagDeleted
)

// MsgInfo describes one message in a mailbox.
type MsgInfo struct {
	ID          uint64 // stable, never reused in this mailbox: the POP3 UIDL
	Size        int64  // octets of ReadMessage's result
	Flags       MsgFlags
	From        string // decoded From header
	Subject     string // decoded Subject header
	Date        time.Time
	MessageID   string
	Received    time.Time
	ReversePath string // the SMTP sender; "" for the null sender
	SenderUser  uint32 // authenticated local sender, 0 when none
	ClientIP    string
}

type msgRecord struct {
	MsgInfo
	Body  uint64
	Trace []byte
}

func (m *msgRecord) setID(id uint64) { m.ID = id }

func decodeMsg(k, v []byte) (msgRecord, error) {
	var m msgRecord
	if err := json.Unmarshal(v, &m); err != nil {
		return m, fmt.Errorf("message %x: %w", k, err)
	}
	m.ID = binary.BigEndian.Uint64(k)
	return m, nil
}

// mailBucket returns user's mailbox bucket, or nil when no mail has ever
// arrived for the user.
func mailBucket(tx *bolt.Tx, user uint32) *bolt.Bucket {
	return tx.Bucket([]byte(bucketMail)).Bucket(userBucketName(user))
}

// Mailbox lists the undeleted messages of user, oldest first.
func (db *DB) Mailbox(user uint32) ([]MsgInfo, error) {
	var out []MsgInfo
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := mailBucket(tx, user)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			m, err := decodeMsg(k, v)
			if err == nil && m.Flags&FlagDeleted == 0 {
				out = append(out, m.MsgInfo)
			}
			return err
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: mailbox of user %d: %w", user, err)
	}
	return out, nil
}

// msgFlags decodes only the flags of a stored message record.
func msgFlags(k, v []byte) (MsgFlags, error) {
	var f struct{ Flags MsgFlags }
	if err := json.Unmarshal(v, &f); err != nil {
		return 0, fmt.Errorf("message %x: %w", k, err)
	}
	return f.Flags, nil
}

// MsgSize is what a POP3 session needs of a message: its id (the UIDL),
// its size and its flags.
type MsgSize struct {
	ID    uint64
	Size  int64
	Flags MsgFlags
}

// MailboxSizes lists the undeleted messages of user, oldest first, like
// Mailbox but decoding only the size and the flags of each record: no
// dates to parse, no strings or trace header to copy. A POP3 login lists
// the whole mailbox, and with many messages the full records made that
// the slow part of it.
func (db *DB) MailboxSizes(user uint32) ([]MsgSize, error) {
	var out []MsgSize
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := mailBucket(tx, user)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			m, ok := sizePrefix(v)
			if !ok {
				if err := json.Unmarshal(v, &m); err != nil {
					return fmt.Errorf("message %x: %w", k, err)
				}
			}
			if m.Flags&FlagDeleted == 0 {
				out = append(out, MsgSize{ID: binary.BigEndian.Uint64(k), Size: m.Size, Flags: m.Flags})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: mailbox of user %d: %w", user, err)
	}
	return out, nil
}

// sizeFlags is the part of a stored record MailboxSizes reads.
type sizeFlags struct {
	Size  int64
	Flags MsgFlags
}

// sizePrefix reads the size and flags from the start of a record as
// encoding/json writes msgRecord, fields in declaration order:
// {"ID":n,"Size":n,"Flags":n,... Anything else says !ok, and the caller
// decodes the record properly.
func sizePrefix(v []byte) (sizeFlags, bool) {
	var f sizeFlags
	rest, ok := bytes.CutPrefix(v, []byte(`{"ID":`))
	if !ok {
		return f, false
	}
	_, rest, ok = leadingNumber(rest, `,"Size":`)
	if !ok {
		return f, false
	}
	size, rest, ok := leadingNumber(rest, `,"Flags":`)
	if !ok {
		return f, false
	}
	flags, _, ok := leadingNumber(rest, `,`)
	if !ok || flags > 255 {
		return f, false
	}
	f.Size, f.Flags = int64(size), MsgFlags(flags)
	return f, true
}

// leadingNumber parses the decimal digits at the start of b, which must be
// followed by sep, and returns what follows sep.
func leadingNumber(b []byte, sep string) (uint64, []byte, bool) {
	i := 0
	var n uint64
	for ; i < len(b) && i < 19 && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + uint64(b[i]-'0')
	}
	if i == 0 {
		return 0, nil, false
	}
	rest, ok := bytes.CutPrefix(b[i:], []byte(sep))
	return n, rest, ok
}

// MessageCount counts the undeleted messages of user, spam included, as
// MaxMsgsWaiting does.
func (db *DB) MessageCount(user uint32) (int, error) {
	n := 0
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := mailBucket(tx, user)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			f, err := msgFlags(k, v)
			if err != nil {
				return err
			}
			if f&FlagDeleted == 0 {
				n++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("store: message count of user %d: %w", user, err)
	}
	return n, nil
}

// msgValue returns the stored record of message id of user.
func msgValue(tx *bolt.Tx, user uint32, id uint64) ([]byte, error) {
	var v []byte
	if b := mailBucket(tx, user); b != nil {
		v = b.Get(u64(id))
	}
	if v == nil {
		return nil, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	return v, nil
}

// ReadMessage returns message id of user as it is served: the copy's
// trace header block followed by the shared text. The bytes are the
// caller's; no transaction stays open while they are sent.
func (db *DB) ReadMessage(user uint32, id uint64) ([]byte, MsgInfo, error) {
	var (
		out  []byte
		info MsgInfo
	)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v, err := msgValue(tx, user, id)
		if err != nil {
			return err
		}
		m, err := decodeMsg(u64(id), v)
		if err != nil {
			return err
		}
		info = m.MsgInfo
		out, err = readBody(tx, m.Body, m.Trace)
		return err
	})
	if err != nil {
		return nil, MsgInfo{}, fmt.Errorf("store: read message of user %d: %w", user, err)
	}
	return out, info, nil
}

// AppendMessage appends message id of user, as ReadMessage returns it, to
// dst and returns the extended slice. It decodes only where the text is
// and the trace header, not the whole record, and copies the octets once,
// into dst: a POP3 session reuses dst from one RETR to the next. No
// transaction stays open after it returns.
func (db *DB) AppendMessage(dst []byte, user uint32, id uint64) ([]byte, error) {
	err := db.bolt.View(func(tx *bolt.Tx) error {
		v, err := msgValue(tx, user, id)
		if err != nil {
			return err
		}
		body, trace, ok := bodyTail(v)
		if !ok {
			m, err := decodeMsg(u64(id), v)
			if err != nil {
				return err
			}
			body, trace = m.Body, nil
			dst = append(dst, m.Trace...)
		}
		text := getBody(tx.Bucket([]byte(bucketBodies)), u64(body))
		if text == nil {
			return fmt.Errorf("body %d: %w", body, ErrNotFound)
		}
		if trace != nil {
			var err error
			if dst, err = base64.StdEncoding.AppendDecode(dst, trace); err != nil {
				return fmt.Errorf("message %d: trace: %w", id, err)
			}
		}
		dst = append(dst, text...)
		return nil
	})
	if err != nil {
		return dst, fmt.Errorf("store: read message of user %d: %w", user, err)
	}
	return dst, nil
}

// bodyTail reads the text's key and the base64 of the trace header from
// the end of a record as encoding/json writes msgRecord, the last fields
// in declaration order: ...,"Body":n,"Trace":"base64"} or "Trace":null}.
// It reads backwards from the end, where base64 holds no '"' and the key
// before it no digit, so nothing of the strings earlier in the record is
// looked at. Anything else says !ok, and the caller decodes the record
// properly. trace is nil when the record has no trace header.
func bodyTail(v []byte) (body uint64, trace []byte, ok bool) {
	rest, ok := bytes.CutSuffix(v, []byte(`,"Trace":null}`))
	if !ok {
		head, quoted := bytes.CutSuffix(v, []byte(`"}`))
		q := bytes.LastIndexByte(head, '"')
		if !quoted || q < 0 {
			return 0, nil, false
		}
		trace = head[q+1:]
		if rest, ok = bytes.CutSuffix(head[:q], []byte(`,"Trace":`)); !ok || bytes.IndexByte(trace, '\\') >= 0 {
			return 0, nil, false
		}
	}
	i := len(rest)
	for i > 0 && len(rest)-i < 19 && rest[i-1] >= '0' && rest[i-1] <= '9' {
		i--
	}
	if i == len(rest) || rest[i] == '0' && len(rest)-i > 1 || !bytes.HasSuffix(rest[:i], []byte(`,"Body":`)) {
		return 0, nil, false
	}
	for _, d := range rest[i:] {
		body = body*10 + uint64(d-'0')
	}
	return body, trace, true
}

// MarkRead sets FlagRead on the given messages of user. Ids that no
// longer exist are skipped: another session may have deleted them.
func (db *DB) MarkRead(user uint32, ids ...uint64) error {
	// A POP3 client that fetches the same messages again and again (they
	// stay on the server) would otherwise cost a commit, two fsyncs, at
	// every QUIT for nothing.
	if unread, err := db.anyUnread(user, ids); err != nil || !unread {
		return err
	}
	return db.updateMessages("mark read", user, ids, func(tx *bolt.Tx, b *bolt.Bucket, m *msgRecord) error {
		if m.Flags&FlagRead != 0 {
			return nil
		}
		m.Flags |= FlagRead
		v, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return b.Put(u64(m.ID), v)
	})
}

// anyUnread reports whether any of ids is a message of user without
// FlagRead.
func (db *DB) anyUnread(user uint32, ids []uint64) (bool, error) {
	unread := false
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := mailBucket(tx, user)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			v := b.Get(u64(id))
			if v == nil {
				continue
			}
			f, err := msgFlags(u64(id), v)
			if err != nil {
				return err
			}
			if f&FlagRead == 0 {
				unread = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: mark read of user %d: %w", user, err)
	}
	return unread, nil
}

// DeleteMessages removes the given messages of user in one transaction
// and frees each text whose last reference goes. Ids that no longer exist
// are skipped, so a POP3 QUIT after a concurrent delete still succeeds.
func (db *DB) DeleteMessages(user uint32, ids ...uint64) error {
	return db.updateMessages("delete messages", user, ids, func(tx *bolt.Tx, b *bolt.Bucket, m *msgRecord) error {
		if err := b.Delete(u64(m.ID)); err != nil {
			return err
		}
		return unrefBody(tx, m.Body)
	})
}

func (db *DB) updateMessages(what string, user uint32, ids []uint64, fn func(*bolt.Tx, *bolt.Bucket, *msgRecord) error) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.write(func(tx *bolt.Tx) error {
		b := mailBucket(tx, user)
		if b == nil {
			return nil
		}
		seen := make(map[uint64]bool, len(ids))
		for _, id := range ids {
			v := b.Get(u64(id))
			if v == nil || seen[id] {
				continue
			}
			seen[id] = true
			m, err := decodeMsg(u64(id), v)
			if err != nil {
				return err
			}
			if err := fn(tx, b, &m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: %s of user %d: %w", what, user, err)
	}
	return nil
}
