package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"

	"github.com/bbsmail/bbsmail/envelope"
)

// Post is a message posted to a sub-board by mail.
type Post struct {
	Number      uint64 // 1..N within the sub-board, never reused
	To          string
	From        string
	Subject     string
	Date        time.Time
	MessageID   string
	Received    time.Time
	ReversePath string
	SenderUser  uint32
	Size        int64
}

type postRecord struct {
	Post
	Body  uint64
	Trace []byte
}

func (p *postRecord) setID(id uint64) { p.Number = id }

// NetmailEntry is a message waiting for the FidoNet or QWK exporter.
type NetmailEntry struct {
	ID          uint64
	NetType     envelope.NetType // NetFido or NetQWK
	NetAddr     string           // zone:net/node[.point], or the QWK route
	To          string
	From        string
	Subject     string
	Received    time.Time
	ReversePath string
	SenderUser  uint32
	Size        int64
}

type netmailRecord struct {
	NetmailEntry
	Body  uint64
	Trace []byte
}

func (n *netmailRecord) setID(id uint64) { n.ID = id }

func subKey(code string) []byte { return []byte(strings.ToLower(strings.TrimSpace(code))) }

// SubPosts lists the posts of sub-board code (any case), oldest first. A
// sub-board that never received mail has none.
func (db *DB) SubPosts(code string) ([]Post, error) {
	var out []Post
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSubs)).Bucket(subKey(code))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p postRecord
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("post %x: %w", k, err)
			}
			p.Number = binary.BigEndian.Uint64(k)
			out = append(out, p.Post)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: posts of %s: %w", code, err)
	}
	return out, nil
}

// SubPost returns post n of sub-board code and its text (trace and
// message).
func (db *DB) SubPost(code string, n uint64) (Post, []byte, error) {
	var (
		p   postRecord
		out []byte
	)
	err := db.bolt.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketSubs)).Bucket(subKey(code))
		var v []byte
		if b != nil {
			v = b.Get(u64(n))
		}
		if v == nil {
			return fmt.Errorf("post %d: %w", n, ErrNotFound)
		}
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("post %d: %w", n, err)
		}
		p.Number = n
		var err error
		out, err = readBody(tx, p.Body, p.Trace)
		return err
	})
	if err != nil {
		return Post{}, nil, fmt.Errorf("store: %s: %w", code, err)
	}
	return p.Post, out, nil
}

// Netmail lists the FidoNet and QWK messages waiting for export, oldest
// first.
func (db *DB) Netmail() ([]NetmailEntry, error) {
	var out []NetmailEntry
	err := db.bolt.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketNetmail)).ForEach(func(k, v []byte) error {
			var e netmailRecord
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("netmail %x: %w", k, err)
			}
			e.ID = binary.BigEndian.Uint64(k)
			out = append(out, e.NetmailEntry)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("store: netmail: %w", err)
	}
	return out, nil
}

// NetmailMessage returns the text (trace and message) of netmail id.
func (db *DB) NetmailMessage(id uint64) ([]byte, error) {
	var out []byte
	err := db.bolt.View(func(tx *bolt.Tx) error {
		e, err := getNetmail(tx, id)
		if err == nil {
			out, err = readBody(tx, e.Body, e.Trace)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

// DeleteNetmail removes netmail id once it has been exported.
func (db *DB) DeleteNetmail(id uint64) error {
	err := db.write(func(tx *bolt.Tx) error {
		e, err := getNetmail(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte(bucketNetmail)).Delete(u64(id)); err != nil {
			return err
		}
		return unrefBody(tx, e.Body)
	})
	if err != nil {
		return fmt.Errorf("store: delete netmail: %w", err)
	}
	return nil
}

func getNetmail(tx *bolt.Tx, id uint64) (*netmailRecord, error) {
	v := tx.Bucket([]byte(bucketNetmail)).Get(u64(id))
	if v == nil {
		return nil, fmt.Errorf("netmail %d: %w", id, ErrNotFound)
	}
	var e netmailRecord
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, fmt.Errorf("netmail %d: %w", id, err)
	}
	e.ID = id
	return &e, nil
}

// MaxTelegramLen bounds one telegram, in bytes.
const MaxTelegramLen = 4096

// Telegram is a short message shown to a BBS user, such as an SMTP SEND
// or a new-mail notice.
type Telegram struct {
	ID   uint64
	Time time.Time
	Text string
}

func (t *Telegram) setID(id uint64) { t.ID = id }

// AddTelegram queues text for user, who must exist.
func (db *DB) AddTelegram(user uint32, text string) error {
	if len(text) > MaxTelegramLen || !utf8.ValidString(text) {
		return fmt.Errorf("store: telegram for user %d: longer than %d bytes or not UTF-8: %w", user, MaxTelegramLen, ErrInvalid)
	}
	t := Telegram{Time: time.Now(), Text: text}
	err := db.write(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte(bucketUsers)).Get(u32(user)) == nil {
			return fmt.Errorf("user %d: %w", user, ErrNotFound)
		}
		b, err := tx.Bucket([]byte(bucketTelegrams)).CreateBucketIfNotExists(userBucketName(user))
		if err != nil {
			return err
		}
		_, err = appendRecord(b, &t)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: telegram: %w", err)
	}
	return nil
}

// Telegrams returns the telegrams waiting for user, oldest first, and
// with clear removes them in the same transaction so none is shown twice
// or lost.
func (db *DB) Telegrams(user uint32, clear bool) ([]Telegram, error) {
	var out []Telegram
	collect := func(tx *bolt.Tx) error {
		out = nil
		b := tx.Bucket([]byte(bucketTelegrams)).Bucket(userBucketName(user))
		if b == nil {
			return nil
		}
		var keys [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var t Telegram
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("telegram %x: %w", k, err)
			}
			out = append(out, t)
			keys = append(keys, append([]byte(nil), k...))
			return nil
		})
		if err != nil || !clear {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if clear {
		err = db.write(collect)
	} else {
		err = db.bolt.View(collect)
	}
	if err != nil {
		return nil, fmt.Errorf("store: telegrams of user %d: %w", user, err)
	}
	return out, nil
}
