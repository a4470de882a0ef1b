package store_test

import (
	"fmt"
	"testing"

	"github.com/bbsmail/bbsmail/envelope"
	"github.com/bbsmail/bbsmail/store"
)

// MailboxSizes tells the same ids, sizes and flags as Mailbox, deleted
// and spam messages included as Mailbox has them.
func TestMailboxSizesMatchesMailbox(t *testing.T) {
	t.Parallel()
	db, _ := openTemp(t)
	user := addUsers(t, db, "Lister")[0]
	for i := range 5 {
		env := &envelope.Envelope{Spam: i == 2, Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: user,
			Trace: fmt.Appendf(nil, "Received: %d\r\n", i)}}}
		if _, err := db.Deliver(env, fmt.Appendf(nil, "Subject: %d\r\n\r\n%0*d\r\n", i, 10*i+1, i)); err != nil {
			t.Fatal(err)
		}
	}
	full, err := db.Mailbox(user)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.MarkRead(user, full[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMessages(user, full[3].ID); err != nil {
		t.Fatal(err)
	}
	if full, err = db.Mailbox(user); err != nil {
		t.Fatal(err)
	}
	sizes, err := db.MailboxSizes(user)
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != len(full) || len(full) != 4 {
		t.Fatalf("MailboxSizes has %d messages, Mailbox %d; want 4", len(sizes), len(full))
	}
	for i, m := range full {
		if want := (store.MsgSize{ID: m.ID, Size: m.Size, Flags: m.Flags}); sizes[i] != want {
			t.Errorf("message %d: %+v, want %+v", i, sizes[i], want)
		}
	}
	if none, err := db.MailboxSizes(addUsers(t, db, "Empty")[0]); err != nil || len(none) != 0 {
		t.Fatalf("empty mailbox: %v, %v", none, err)
	}
}

// BenchmarkMailboxList lists a mailbox of 10,000 messages in full and
// by size and flags only.
func BenchmarkMailboxList(b *testing.B) {
	db, _ := openTemp(b)
	user := addUsers(b, db, "Bench")[0]
	env := &envelope.Envelope{Rcpts: []envelope.Rcpt{{Kind: envelope.KindMailbox, User: user,
		Trace: []byte("Return-Path: <bench@example.org>\r\nReceived: from bench by bbs.test; Mon, 7 Dec 2026 03:00:00 +0000\r\n")}}}
	msg := []byte("From: Bench <a@example.org>\r\nSubject: listing\r\nDate: Mon, 7 Dec 2026 03:00:00 +0000\r\nMessage-ID: <1@example.org>\r\n\r\nbody\r\n")
	if err := deliverN(db, env, msg, 10_000, 16); err != nil {
		b.Fatal(err)
	}
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Mailbox(user); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sizes", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.MailboxSizes(user); err != nil {
				b.Fatal(err)
			}
		}
	})
}
