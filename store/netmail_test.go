package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

func fidoEnvelope(to string) *envelope.Envelope {
	return &envelope.Envelope{ID: "t", ReversePath: "joe@example.org", Rcpts: []envelope.Rcpt{
		{Kind: envelope.KindFido, To: to, NetType: envelope.NetFido, NetAddr: "1:2/3"},
	}}
}

// TestNetmailPackExport walks an export: pack, unpack, pack again,
// exported; the text goes with the last reference and Check stays clean.
func TestNetmailPackExport(t *testing.T) {
	db, _ := openTemp(t)
	r1, err := db.Deliver(fidoEnvelope("Bob"), []byte(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := db.Deliver(fidoEnvelope("Ann"), []byte(sampleMsg))
	if err != nil {
		t.Fatal(err)
	}
	ids := []uint64{r1.Copies[0].ID, r2.Copies[0].ID}
	if err := db.PackNetmail(ids, "/o/x.tmp"); err != nil {
		t.Fatal(err)
	}
	if err := db.PackNetmail([]uint64{999}, "/o/y.tmp"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("packing unknown netmail: %v", err)
	}
	m, err := db.NetmailPacked()
	if err != nil || len(m) != 2 || m[ids[0]] != "/o/x.tmp" {
		t.Fatalf("packed = %v, %v", m, err)
	}
	if err := db.UnpackNetmail(ids[:1]); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.NetmailPacked(); len(m) != 1 {
		t.Errorf("after unpack: %v", m)
	}
	if err := db.NetmailExported(ids); err != nil {
		t.Fatal(err)
	}
	if err := db.NetmailExported(ids); err != nil {
		t.Errorf("exporting twice: %v", err)
	}
	list, _ := db.Netmail()
	m, _ = db.NetmailPacked()
	st, _ := db.Stats()
	if len(list) != 0 || len(m) != 0 || st.Bodies != 0 {
		t.Errorf("left: %d netmail, %d marks, %d texts", len(list), len(m), st.Bodies)
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}

// TestDeliverOnce stores a message once per key.
func TestDeliverOnce(t *testing.T) {
	db, _ := openTemp(t)
	u := addUsers(t, db, "Bob")[0]
	env := &envelope.Envelope{ID: "in", Rcpts: []envelope.Rcpt{mailboxRcpt(u, "")}}
	for i, want := range []bool{false, true} {
		_, dup, err := db.DeliverOnce("msgid 1:2/3 abcd", env, []byte(sampleMsg))
		if err != nil || dup != want {
			t.Fatalf("delivery %d: dup=%v err=%v, want dup=%v", i, dup, err, want)
		}
	}
	if _, dup, err := db.DeliverOnce("msgid 1:2/3 ef01", env, []byte(sampleMsg)); err != nil || dup {
		t.Fatalf("other key: dup=%v err=%v", dup, err)
	}
	if box, _ := db.Mailbox(u); len(box) != 2 {
		t.Errorf("mailbox holds %d, want 2", len(box))
	}
	if _, _, err := db.DeliverOnce("", env, []byte(sampleMsg)); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty key: %v", err)
	}
	if n, err := db.ForgetImported(time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("ForgetImported = %d, %v", n, err)
	}
	if _, dup, _ := db.DeliverOnce("msgid 1:2/3 abcd", env, []byte(sampleMsg)); dup {
		t.Error("a forgotten key still counts")
	}
	if err := db.Check(); err != nil {
		t.Error(err)
	}
}
