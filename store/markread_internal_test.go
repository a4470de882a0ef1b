package store

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
)

// Marking messages read that are read already commits nothing; a message
// not yet read still gets its flag.
func TestMarkReadWritesOnlyNews(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "mail.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	user, err := db.AddUser(User{Alias: "Reader"}, "")
	if err != nil {
		t.Fatal(err)
	}
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
