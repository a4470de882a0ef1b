package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	bolt "go.etcd.io/bbolt"
)

// Marking messages read that are read already commits nothing; a message
// not yet read still gets its flag.
func TestMarkReadWritesOnlyNews(t *testing.T) {
	t.Parallel()
	db, user := openWithReader(t)
	env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: user}}}
	var ids []uint64
	for range 2 {
		r, err := db.Deliver(env, []byte("Subject: x\r\n\r\nbody\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Copies[0].ID)
	}
	if err := db.MarkRead(user, ids[0]); err != nil {
		t.Fatal(err)
	}
	stats := db.bolt.Stats()
	writes := stats.TxStats.GetWrite()
	if err := db.MarkRead(user, ids[0], 999); err != nil {
		t.Fatal(err)
	}
	stats = db.bolt.Stats()
	if got := stats.TxStats.GetWrite(); got != writes {
		t.Fatalf("marking a read message read again wrote %d pages", got-writes)
	}
	if err := db.MarkRead(user, ids...); err != nil {
		t.Fatal(err)
	}
	list, err := db.Mailbox(user)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Flags&FlagRead == 0 {
			t.Fatalf("message %d not marked read", m.ID)
		}
	}
}

// The records Deliver and MarkRead write are read by sizePrefix without
// the JSON decoder; anything else falls back to it.
func TestSizePrefixReadsStoredRecords(t *testing.T) {
	rec := msgRecord{MsgInfo: MsgInfo{ID: 7, Size: 123456, Flags: FlagRead | FlagSpam, Subject: `"quoted", {}`}, Body: 3, Trace: []byte("x")}
	v, err := json.Marshal(&rec)
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := sizePrefix(v); !ok || f.Size != 123456 || f.Flags != FlagRead|FlagSpam {
		t.Fatalf("sizePrefix(%s) = %+v, %v", v, f, ok)
	}
	for _, odd := range []string{`{"Size":1,"Flags":0}`, `{"ID":1,"Size":-1,"Flags":0,`, `{"ID":1,"Size":1,"Flags":300,`, `{"ID":1}`, ``} {
		if f, ok := sizePrefix([]byte(odd)); ok {
			t.Errorf("sizePrefix(%s) = %+v, want a fall back to the decoder", odd, f)
		}
	}
}

// The records Deliver and MarkRead write are read by bodyTail without the
// JSON decoder, with or without a trace header and whatever the strings
// before hold; anything else falls back to it.
func TestBodyTailReadsStoredRecords(t *testing.T) {
	for _, trace := range [][]byte{nil, {}, []byte("Received: x\r\n"), []byte(`"Body":9,"Trace":"`)} {
		rec := msgRecord{MsgInfo: MsgInfo{ID: 7, Size: 12, Subject: `,"Body":5,"Trace":null}`, From: `\"`}, Body: 1234567, Trace: trace}
		v, err := json.Marshal(&rec)
		if err != nil {
			t.Fatal(err)
		}
		body, b64, ok := bodyTail(v)
		if !ok || body != 1234567 {
			t.Fatalf("bodyTail(%s) = %d, %v", v, body, ok)
		}
		got, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil || string(got) != string(trace) || (trace == nil) != (b64 == nil) {
			t.Fatalf("bodyTail(%s): trace %q (%v), want %q", v, got, err, trace)
		}
	}
	for _, odd := range []string{`{"Body":1,"Trace":null}x`, `{"Body":1}`, `{"Trace":null,"Body":1}`, `{"Body":1,"Trace":"a\u0041"}`,
		`{"Body":-1,"Trace":null}`, `{"Body":01,"Trace":null}`, `{"Body":12345678901234567890,"Trace":null}`, `{"xBody":1,"Trace":null}`,
		`{"Body":1,"Trace":"a\"b"}`, `{"Body":1,"Trace":"a"b"}`, `{"Body":1,"Trace":null}}`, `{"Body":1,"Trace":""`, `{"Body":1,"Trace":"}`, `{"Body":1,"Trace":{}}`, ``} {
		if body, _, ok := bodyTail([]byte(odd)); ok {
			t.Errorf("bodyTail(%s) = %d, want a fall back to the decoder", odd, body)
		}
	}
}

// AppendMessage appends what ReadMessage returns, for records bodyTail
// reads and for records in another field order, which the decoder reads;
// a missing message is ErrNotFound.
func TestAppendMessageMatchesReadMessage(t *testing.T) {
	t.Parallel()
	db, user := openWithReader(t)
	var ids []uint64
	for _, trace := range []string{"", "Received: by bbs.test\r\n"} {
		env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: user, Trace: []byte(trace)}}}
		r, err := db.Deliver(env, []byte("Subject: x\r\n\r\n.body\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Copies[0].ID)
	}
	// A record written by another tool: the same fields in another order
	// (a map's keys are sorted, so Body comes first).
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := mailBucket(tx, user)
		m, err := decodeMsg(u64(ids[1]), b.Get(u64(ids[1])))
		if err != nil {
			return err
		}
		v, err := json.Marshal(map[string]any{"Trace": m.Trace, "ID": m.ID, "Size": m.Size, "Body": m.Body})
		if err != nil {
			return err
		}
		ids = append(ids, ids[1]+1000)
		return b.Put(u64(ids[2]), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		want, _, err := db.ReadMessage(user, id)
		if i == 2 {
			want, _, err = db.ReadMessage(user, ids[1])
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.AppendMessage([]byte("kept"), user, id)
		if err != nil || string(got) != "kept"+string(want) {
			t.Fatalf("message %d: AppendMessage = %q, %v; want %q after what was there", i, got, err, want)
		}
	}
	if _, err := db.AppendMessage(nil, user, 999999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing message: %v, want ErrNotFound", err)
	}
}

// openWithReader opens a new mailbase with one user, Reader.
func openWithReader(t *testing.T) (*DB, uint32) {
	db, err := Open(filepath.Join(t.TempDir(), "mail.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	user, err := db.AddUser(User{Alias: "Reader"}, "")
	if err != nil {
		t.Fatal(err)
	}
	return db, user
}

// Where bodyTail reads a record that the decoder reads too, both find the
// same text and trace header.
func FuzzBodyTail(f *testing.F) {
	f.Add([]byte(`{"ID":1,"Size":2,"Flags":0,"Subject":"x","Body":7,"Trace":"UmVjZWl2ZWQ="}`))
	f.Add([]byte(`{"ID":1,"Body":7,"Trace":null}`))
	f.Add([]byte(`{"Body":7,"Body":8,"Trace":""}`))
	f.Fuzz(func(t *testing.T, v []byte) {
		body, b64, ok := bodyTail(v)
		var m msgRecord
		if !ok || json.Unmarshal(v, &m) != nil {
			return
		}
		trace, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil || body != m.Body || string(trace) != string(m.Trace) {
			t.Fatalf("bodyTail(%s) = %d, %q (%v); the decoder reads %d, %q", v, body, trace, err, m.Body, m.Trace)
		}
	})
}
