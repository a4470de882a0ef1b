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
	if err := db.PackNetmail(ids, "/o/x.tmp", "/o/x.out"); err != nil {
		t.Fatal(err)
	}
	if err := db.PackNetmail([]uint64{999}, "/o/y.tmp", "/o/y.out"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("packing unknown netmail: %v", err)
	}
	m, err := db.NetmailPacked()
	if err != nil || len(m) != 2 || m[ids[0]] != (store.NetmailMark{Tmp: "/o/x.tmp", Final: "/o/x.out"}) {
		t.Fatalf("packed = %v, %v", m, err)
	}
	if err := db.UnpackNetmail(ids[:1]); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.NetmailPacked(); len(m) != 1 {
		t.Errorf("after unpack: %v", m)
	}
	if err := db.NetmailExported(ids, "/o/x.out", true); err != nil {
		t.Fatal(err)
	}
	if err := db.NetmailExported(ids, "/o/x.out", false); err != nil {
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

// TestNetmailSent: exported netmail is recorded with its packet, marked
// sent when the packet is gone (or when a fresh packet of the same name
// is started), and sent records are pruned by count.
func TestNetmailSent(t *testing.T) {
	db, _ := openTemp(t)
	var ids []uint64
	for range store.NetmailSentMax + 2 {
		r, err := db.Deliver(fidoEnvelope("Bob"), []byte(sampleMsg))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.Copies[0].ID)
	}
	n := len(ids)
	if err := db.NetmailExported(ids[:n-2], "/o/a.out", true); err != nil {
		t.Fatal(err)
	}
	if err := db.NetmailExported(ids[n-2:n-1], "/o/b.out", true); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	asked := 0
	if err := db.NetmailSentCheck(func(p string) bool { asked++; return p == "/o/a.out" }, now); err != nil {
		t.Fatal(err)
	}
	list, _ := db.NetmailSent()
	if asked != 2 || len(list) != n-1 || list[0].Packet != "/o/a.out" || !list[0].Sent.Equal(now) || !list[n-2].Sent.IsZero() {
		t.Fatalf("after check (%d asked): %d records, first %+v, last %+v", asked, len(list), list[0], list[len(list)-1])
	}
	// A fresh b.out means the one before was sent.
	if err := db.NetmailExported(ids[n-1:], "/o/b.out", true); err != nil {
		t.Fatal(err)
	}
	if err := db.NetmailSentCheck(func(string) bool { return false }, now); err != nil {
		t.Fatal(err)
	}
	list, _ = db.NetmailSent()
	sent := 0
	for _, d := range list {
		if !d.Sent.IsZero() {
			sent++
		}
	}
	if sent != store.NetmailSentMax || !list[len(list)-1].Sent.IsZero() || list[len(list)-2].Sent.IsZero() {
		t.Errorf("%d records, %d sent; want %d sent and the newest waiting", len(list), sent, store.NetmailSentMax)
	}
	// Older than NetmailSentKeep: forgotten.
	if err := db.NetmailSentCheck(func(string) bool { return true }, now.Add(store.NetmailSentKeep+time.Hour)); err != nil {
		t.Fatal(err)
	}
	if list, _ = db.NetmailSent(); len(list) != 1 {
		t.Errorf("%d records left, want the one just sent", len(list))
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
