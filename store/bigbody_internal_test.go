package store

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
)

// A big text is written once: storing the next one does not rewrite (nor
// read back and copy through memory) the texts stored before it, which a
// shared bbolt leaf would. The texts read back whole, the mailbase checks
// clean, and deleting them frees them.
func TestBigBodiesWrittenOnce(t *testing.T) {
	t.Parallel()
	db, err := Open(filepath.Join(t.TempDir(), "mail.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const size = 1 << 20
	deliver := func(i int) (Receipt, []byte) {
		msg := append([]byte(fmt.Sprintf("Subject: big %d\r\n\r\n", i)), bytes.Repeat([]byte{'a' + byte(i)}, size)...)
		env := &envelope.Envelope{ID: fmt.Sprint(i), ReversePath: "a@b.example", Received: time.Now(),
			Rcpts: []envelope.Rcpt{{Kind: envelope.KindRemote, To: "x@y.example", NetAddr: "x@y.example", Trace: []byte("Received: x\r\n")}}}
		r, err := db.Deliver(env, msg)
		if err != nil {
			t.Fatal(err)
		}
		return r, msg
	}
	var ids []uint64
	var msgs [][]byte
	for i := range 4 {
		r, m := deliver(i)
		ids, msgs = append(ids, r.QueueIDs[0]), append(msgs, m)
	}
	pageAlloc := func() int64 { st := db.bolt.Stats(); return st.TxStats.GetPageAlloc() }
	before := pageAlloc()
	r, m := deliver(4)
	ids, msgs = append(ids, r.QueueIDs[0]), append(msgs, m)
	if alloc := pageAlloc() - before; alloc > size+size/2 {
		t.Fatalf("storing one %d-octet text wrote %d octets of pages", size, alloc)
	}
	for i, id := range ids {
		got, err := db.QueueMessage(id)
		if err != nil {
			t.Fatal(err)
		}
		if want := append([]byte("Received: x\r\n"), msgs[i]...); !bytes.Equal(got, want) {
			t.Fatalf("text %d read back wrong (%d octets, want %d)", i, len(got), len(want))
		}
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Stats(); s.Bodies != 5 {
		t.Fatalf("Stats counts %d texts, want 5", s.Bodies)
	}
	if err := db.QueueDelivered(ids...); err != nil {
		t.Fatal(err)
	}
	if s, _ := db.Stats(); s.Bodies != 0 {
		t.Fatalf("Stats counts %d texts after deleting them all", s.Bodies)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}
