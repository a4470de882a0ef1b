package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bbsmail/bbsmail/ctrl"
	"github.com/bbsmail/bbsmail/ftn"
	"github.com/bbsmail/bbsmail/store"
)

// TestFidoBounce tosses netmail for an unknown name with FidoUnknownUser =
// bounce: the bounce leaves in the next export as a packet the ftn decoder
// reads back (from our address to the sender, quoting the original); the
// same netmail tossed again bounces no second time; netmail that is
// itself a bounce goes to the sysop.
func TestFidoBounce(t *testing.T) {
	dir := t.TempDir()
	db, boxes := bounceBoxes(t, dir, "Sysop", "Bob")
	orig, _ := ftn.ParseAddr("1:2/1")
	us, _ := ftn.ParseAddr("1:2/3")
	in := func(to, subject, msgid string) ftn.Incoming {
		return secureNetmail(to, "Uplink Sysop", subject, "\x01MSGID: 1:2/1 "+msgid+"\rHello?\rAnybody?\r")
	}
	for i, wantDup := range []bool{false, true} {
		if _, dup, err := boxes.Deliver(context.Background(), in("Nobody Here", "Hi", "0001")); err != nil || dup != wantDup {
			t.Fatalf("toss %d: dup %v, err %v", i, dup, err)
		}
	}
	if _, dup, err := boxes.Deliver(context.Background(), in("Nobody Else", "Unknown user: Sysop", "0002")); err != nil || dup {
		t.Fatalf("tossing a bounce: dup %v, err %v", dup, err)
	}
	if box, _ := db.Mailbox(1); len(box) != 1 || box[0].Subject != "Unknown user: Sysop" {
		t.Errorf("the sysop's mailbox: %+v", box)
	}
	// From an unsecured session the origin is anybody's word: the sysop
	// gets it, nothing goes back.
	stranger := in("Nobody Either", "Hi", "0003")
	stranger.Secure = false
	if _, dup, err := boxes.Deliver(context.Background(), stranger); err != nil || dup {
		t.Fatalf("tossing unsecured netmail: dup %v, err %v", dup, err)
	}
	if box, _ := db.Mailbox(1); len(box) != 2 {
		t.Errorf("unsecured netmail to an unknown name did not reach the sysop: %d messages", len(box))
	}

	c := killConfig(dir)
	if n, err := c.Export(newFidoSpool(db, slog.New(slog.DiscardHandler))); err != nil || n != 1 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	b, err := os.ReadFile(c.PacketPath(orig, ftn.Normal))
	if err != nil {
		t.Fatal(err)
	}
	p, err := ftn.Decode(b)
	if err != nil || len(p.Messages) != 1 {
		t.Fatalf("decoding the bounce packet: %v", err)
	}
	m := p.Messages[0]
	text := ftn.ParseText(m.Text, ftn.CP437)
	if p.Header.Dest != orig || m.Orig != us || m.Dest != orig || m.To != "Uplink Sysop" || m.From != "Sysop" || m.Subject != "Unknown user: Nobody Here" {
		t.Errorf("bounce %v→%v from %q to %q subject %q", m.Orig, m.Dest, m.From, m.To, m.Subject)
	}
	for _, want := range []string{`Your netmail to "Nobody Here" at 1:2/3`, " Subject: Hi\n", "> Hello?\n> Anybody?"} {
		if !strings.Contains(text.Body, want) {
			t.Errorf("bounce text lacks %q:\n%s", want, text.Body)
		}
	}
}

// One pass bounces at most maxBounces; the rest goes to the sysop.
func TestFidoBounceBound(t *testing.T) {
	db, boxes := bounceBoxes(t, t.TempDir(), "Sysop")
	for i := range maxBounces + 5 {
		in := secureNetmail(fmt.Sprintf("Nobody %d", i), "Someone", "Hi", fmt.Sprintf("\x01MSGID: 1:2/1 %08x\rHello\r", i))
		if _, _, err := boxes.Deliver(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if box, _ := db.Mailbox(1); len(box) != 5 {
		t.Errorf("the sysop got %d messages, want the 5 beyond %d bounces", len(box), maxBounces)
	}
}

// bounceBoxes opens a mailbase in dir with the given users (the first is
// #1, the sysop) and returns the tosser's mailboxes with bounces on.
func bounceBoxes(t *testing.T, dir string, users ...string) (*store.DB, fidoBoxes) {
	t.Helper()
	db := openKillDB(t, dir)
	t.Cleanup(func() { db.Close() })
	for _, a := range users {
		if _, err := db.AddUser(store.User{Alias: a, Level: 50}, ""); err != nil {
			t.Fatal(err)
		}
	}
	cfg := &ctrl.Config{}
	cfg.Mail.FidoUnknownUser = "bounce"
	cfg.Mail.HostName = "bbs.test"
	return db, fidoBoxes{db: db, cfg: cfg, bounced: new(int)}
}

// secureNetmail is netmail from 1:2/1 to us (1:2/3) as the tosser hands
// it over from a packet with its link's password.
func secureNetmail(to, from, subject, text string) ftn.Incoming {
	orig, _ := ftn.ParseAddr("1:2/1")
	us, _ := ftn.ParseAddr("1:2/3")
	m := ftn.Message{Orig: orig, Dest: us, Date: "02 Mar 26  11:12:13", To: to, From: from, Subject: subject, Text: []byte(text)}
	in := ftn.ToInternet(&m, "bbs.test", time.Now())
	in.Secure = true
	return in
}
